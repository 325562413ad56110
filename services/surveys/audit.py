"""The audit log of staff actions: every one is written by `record_staff_action`, in the
transaction of the action itself; panel's and feedback's arrive as `surveys.staff_action`
messages (shared/audit.py) and are written by the same function.

Admins read their own agency's rows, newest first, filtered by action, actor and dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.surveys.models import Agency, AuditLog, Question, Survey
from shared.audit import Actor

# Every action the log holds, in the words the console shows.
ACTIONS = {
    "sign_in": "Signed in",
    "user_invited": "Invited a user",
    "role_changed": "Changed a user's role",
    "user_disabled": "Disabled a user",
    "user_enabled": "Re-enabled a user",
    "key_issued": "Issued an API key",
    "key_revoked": "Revoked an API key",
    "launch": "Launched a survey",
    "close": "Closed a survey",
    "member_erased": "Erased a panel member",
    "report_published": "Published a report",
    # Analysts' pulls, recorded with their format after a dot ("dataset.csv").
    "weights": "Read survey weights",
    "table": "Read a weighted table",
    "dataset": "Pulled a dataset",
    "export": "Built an export",
    "download": "Downloaded an export",
}
# What each detail of a row is called, where the log page shows it.
DETAIL_LABELS = {"email": "User", "role": "Role", "from": "From", "to": "To",
                 "key_prefix": "Key", "label": "Label", "title": "Report", "how": "By"}
PAGE_SIZE = 50


def record_staff_action(session: Session, actor: Actor, action: str, *,
                        survey_ids: Sequence[int] = (), detail: dict | None = None,
                        service: str = "surveys", at: datetime | None = None,
                        rows: int = 0, agency: str | None = None) -> AuditLog:
    """Write one staff action to the audit log in the caller's transaction (its commit is the
    action's own). The row is the actor's agency's, or `agency`'s when named (an operator at
    the command line acts on one agency's users or keys)."""
    row = AuditLog(agency=agency or actor.agency, role=actor.role, actor=actor.actor,
                   key_prefix=actor.key_prefix, service=service, action=action,
                   survey_ids=list(survey_ids), detail=detail or {}, rows=rows)
    if at is not None:
        row.at = at
    session.add(row)
    return row


def record_sent_action(session: Session, payload: dict) -> None:
    """A `surveys.staff_action` message from panel or feedback, written as it was done."""
    actor = Actor(agency=payload["agency"], role=payload["role"], actor=payload["actor"],
                  key_prefix=payload["key_prefix"])
    record_staff_action(session, actor, payload["action"], survey_ids=payload["survey_ids"],
                        detail=payload["detail"], service=payload["service"],
                        at=payload["at"])


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    actor_is: str | None = None  # exactly this actor (a staff member's own rows)
    families: tuple[str, ...] = ()  # any of these actions, with or without a format


# What an analyst's pulls are: the families of PULLS' actions.
PULLS = ("weights", "table", "dataset", "export", "download")


def _action_is(action: str):
    return (AuditLog.action == action) | AuditLog.action.startswith(action + ".",
                                                                    autoescape=True)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    agency_name: str
    role: str
    actor: str
    service: str
    action: str
    action_label: str
    detail: dict
    surveys: list[str]  # titles
    rows: int = 0  # respondent-level rows a pull gave


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def action_label(action: str) -> str:
    family, _, form = action.partition(".")
    label = ACTIONS.get(family, action)
    return f"{label} ({form.upper()})" if form else label


def pages_around(page: int, pages: int) -> list[int | None]:
    """The page numbers a pager shows: the first, the last and the two beside this one;
    None where some are left out."""
    shown = sorted({1, pages, *range(max(1, page - 1), min(pages, page + 1) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _survey_titles(session: Session, survey_ids: set[int]) -> dict[int, str]:
    if not survey_ids:
        return {}
    return dict(session.execute(select(Survey.id, Survey.title).where(
        Survey.id.in_(survey_ids))).all())


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_page(session: Session, *, agency: str, chosen: AuditFilter, page: int = 1,
               size: int = PAGE_SIZE) -> AuditPage:
    """One page of the agency's audit log, newest first, as filtered."""
    conditions = [AuditLog.agency == agency]
    if chosen.action:
        conditions.append(_action_is(chosen.action))
    if chosen.families:
        conditions.append(or_(*(_action_is(family) for family in chosen.families)))
    if chosen.actor_is:
        conditions.append(AuditLog.actor == chosen.actor_is)
    if chosen.actor:
        conditions.append(func.lower(AuditLog.actor).contains(chosen.actor.strip().lower(),
                                                              autoescape=True))
    if chosen.since:
        conditions.append(AuditLog.at >= _day_start(chosen.since))
    if chosen.until:
        conditions.append(AuditLog.at < _day_start(chosen.until + timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(AuditLog, Agency.name).outerjoin(Agency, Agency.slug == AuditLog.agency)
        .where(*conditions).order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(size).offset((page - 1) * size)).all()
    titles = _survey_titles(session, {i for row, _ in rows for i in row.survey_ids or []})
    entries = [AuditEntry(at=row.at, agency_name=name or row.agency, role=row.role,
                          actor=row.actor or row.key_prefix, service=row.service,
                          action=row.action, action_label=action_label(row.action),
                          detail={k: v for k, v in (row.detail or {}).items() if v != ""},
                          surveys=[titles.get(i, f"Survey {i}") for i in row.survey_ids or []],
                          rows=row.rows or 0)
               for row, name in rows]
    return AuditPage(entries=entries, page=page, pages=pages, total=total)


@dataclass(frozen=True)
class PullsPage:
    found: AuditPage
    questions: dict[str, str]  # the words of each question a table pulled, by its code


def own_pulls(session: Session, *, agency: str, actor: str, page: int = 1) -> PullsPage:
    """A staff member's own pulls of analysis data (weights, tables, datasets, exports and
    their downloads) from the audit log, newest first, each table's question in words."""
    found = audit_page(session, agency=agency, chosen=AuditFilter(actor_is=actor, families=PULLS),
                       page=page)
    codes = {e.detail["question"] for e in found.entries if e.detail.get("question")}
    key = func.coalesce(Question.bank_code, Question.code)
    questions = dict(session.execute(select(key, Question.text).where(key.in_(codes))).all()
                     ) if codes else {}
    return PullsPage(found, questions)
