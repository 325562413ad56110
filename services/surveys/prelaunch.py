"""The pre-launch preview: before the lead launches, panel counts per quota cell how many
members the draw could choose from now (after the contact cap, opt-outs of the panel and of
the sponsors, and consent) and the shortfall against each cell's target.

Panel owns the members, so surveys asks over the queues (panel.count_eligible, the launch's
own draw request) and keeps the answer (surveys.eligible_counts) in `EligibilityCheck`. The
launch page asks when it has no answer for the survey as it is now, or only an old one, and
says it is working, refreshing itself, until the answer is there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.surveys.lifecycle import draw_request
from services.surveys.models import EligibilityCheck, Survey
from services.surveys.monitor_charts import CHART_WIDTH, cell_name
from services.surveys.overview import LaunchCheck, launch_check
from services.surveys.population import area_names
from services.surveys.queries import led_survey
from shared.bus import Bus, utcnow
from shared.charts import Chart, chart_config, chart_image, pygal, unless_zero, whole_numbers
from shared.statuses import SurveyStatus

# An answer older than this is asked again: other surveys' draws move members under the cap.
FRESH_FOR = timedelta(minutes=10)
# The page refreshes itself this often while panel is counting, for as long as WAIT_FOR.
REFRESH_SECONDS = 2
WAIT_FOR = timedelta(minutes=1)
# A question unanswered this long is asked again (its worker may have been down).
ASK_AGAIN_AFTER = timedelta(minutes=10)
# What stops the members who cannot be invited, as the breakdown's columns say it.
STOPPED_BY = (("at_cap", "Resting under the contact cap"),
              ("opted_out", "Opted out of the panel or of a sponsor"),
              ("no_consent", "No consent to surveys"),
              ("other_channel", "Prefer a channel this survey does not use"))


@dataclass(frozen=True)
class EligibleCell:
    name: str
    target: int
    members: int
    eligible: int
    shortfall: int
    stopped: tuple[int, ...]  # in STOPPED_BY's order


@dataclass
class Eligibility:
    """What the launch page says of panel's count: "working" (asked, no answer yet), "late"
    (no answer in WAIT_FOR: no more refreshing), "ready", or "none" (not a draft)."""

    state: str
    cells: list[EligibleCell] = field(default_factory=list)
    measured_at: datetime | None = None
    chart: Chart | None = None

    @property
    def refresh_seconds(self) -> int | None:
        return REFRESH_SECONDS if self.state == "working" else None

    @property
    def reasons(self) -> list[str]:
        return [label for _, label in STOPPED_BY]

    @property
    def short_cells(self) -> list[EligibleCell]:
        return [c for c in self.cells if c.shortfall]

    @property
    def shortfall(self) -> int:
        return sum(c.shortfall for c in self.cells)

    @property
    def target(self) -> int:
        return sum(c.target for c in self.cells)


@dataclass
class LaunchPage:
    check: LaunchCheck
    eligibility: Eligibility


def fingerprint(request: dict) -> str:
    """The draw request's identity: the same survey asks again once any part of it changes."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _checks(session: Session, survey: Survey, print_: str) -> list[EligibilityCheck]:
    return list(session.scalars(select(EligibilityCheck).where(
        EligibilityCheck.survey_id == survey.id, EligibilityCheck.fingerprint == print_)
        .order_by(EligibilityCheck.asked_at.desc())))


def eligibility(session: Session, bus: Bus, survey: Survey, *, now: datetime,
                ask: bool = True) -> Eligibility:
    """Panel's count for the survey as it is now; asks panel (in the caller's transaction)
    when there is none, or only an old one, and `ask`."""
    if survey.status != SurveyStatus.DRAFT:
        return Eligibility("none")
    print_ = fingerprint(draw_request(survey))
    checks = _checks(session, survey, print_)
    newest = checks[0] if checks else None
    if newest is not None and newest.answered_at is not None \
            and now - newest.measured_at < FRESH_FOR:
        return answer_of(session, newest)
    if newest is not None and newest.answered_at is None \
            and now - newest.asked_at < ASK_AGAIN_AFTER:
        return Eligibility("working" if now - newest.asked_at < WAIT_FOR else "late")
    if ask:
        ask_panel(session, bus, survey, now)
        return Eligibility("working")
    answered = next((c for c in checks if c.answered_at is not None), None)
    return answer_of(session, answered) if answered is not None else Eligibility("late")


def ask_panel(session: Session, bus: Bus, survey: Survey, now: datetime) -> EligibilityCheck:
    """Ask panel to count for the survey as it is now; the question leaves with the caller's
    transaction."""
    request = draw_request(survey)
    check = EligibilityCheck(request_id=str(uuid.uuid4()), survey_id=survey.id,
                             fingerprint=fingerprint(request), asked_at=now)
    session.add(check)
    bus.send(session, "panel.count_eligible", {**request, "request_id": check.request_id})
    return check


def answer_of(session: Session, check: EligibilityCheck) -> Eligibility:
    """Panel's answer as the page shows it: each cell by name, with the chart beside it."""
    wards = area_names(session)
    cells = [EligibleCell(
        name=cell_name(c["cell"], wards) if c["cell"] else "Everyone the survey may invite",
        target=c["target"], members=c["members"], eligible=c["eligible"],
        shortfall=c["shortfall"], stopped=tuple(c[key] for key, _ in STOPPED_BY))
        for c in check.cells or []]
    return Eligibility("ready", cells, check.measured_at, eligibility_chart(cells))


def eligibility_chart(cells: list[EligibleCell]) -> Chart:
    """Each cell's eligible members beside its target, as horizontal bars read top down."""
    title = "Members panel can invite now, against each cell's target"
    highest = max([c.eligible for c in cells] + [c.target for c in cells] + [1])
    chart = pygal.HorizontalBar(**chart_config(title, 140 + 64 * len(cells), width=CHART_WIDTH,
                                               y_labels=whole_numbers(highest)))
    chart.x_labels = [c.name for c in reversed(cells)]  # pygal draws from the bottom up
    chart.add("Eligible now", [c.eligible for c in reversed(cells)],
              formatter=unless_zero(lambda v: f"{v:g} eligible"))
    chart.add("Target", [c.target for c in reversed(cells)],
              formatter=unless_zero(lambda v: f"target {v:g}"))
    return chart_image(title, chart)


def launch_page(session: Session, bus: Bus, *, agency: str, survey_id: int, today: date,
                now: datetime, ask: bool = True) -> LaunchPage:
    """The lead's launch page: the purpose gate's checklist and panel's count per quota cell
    (asked for here when needed: the question leaves with this transaction)."""
    check = launch_check(session, agency=agency, survey_id=survey_id, today=today)
    found = eligibility(session, bus, check.survey, now=now, ask=ask)
    session.commit()
    return LaunchPage(check, found)


def count_again(session: Session, bus: Bus, *, agency: str, survey_id: int,
                now: datetime) -> None:
    """The lead asks panel to count again now (a member's consent or the cap may have changed
    since the count shown); only a draft is counted."""
    survey = led_survey(session, agency=agency, survey_id=survey_id, doing="launches")
    if survey.status == SurveyStatus.DRAFT:
        ask_panel(session, bus, survey, now)
    session.commit()


def record_answer(session: Session, payload: dict) -> None:
    """Panel's answer (surveys.eligible_counts): kept on its question, and the survey's older
    questions are dropped; a question no longer kept, or already answered (a repeated
    delivery), changes nothing."""
    check = session.get(EligibilityCheck, payload["request_id"])
    if check is None or check.answered_at is not None:
        return
    session.execute(delete(EligibilityCheck).where(
        EligibilityCheck.survey_id == check.survey_id,
        EligibilityCheck.asked_at < check.asked_at))
    check.cells = [{**c, "cell": dict(c["cell"])} for c in payload["cells"]]
    check.measured_at = payload["measured_at"]
    check.answered_at = utcnow()
