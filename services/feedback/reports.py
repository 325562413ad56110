"""Drafting a report from a closed survey's results, completing it, and publishing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.feedback.findings import most_preferred, preference_question, relation_implied
from services.feedback.member_links import member_page_url
from services.feedback.models import Report, ReportSponsor, ReportTag, Respondent
from services.feedback.queries import sponsored_report
from shared.audit import Actor, send_staff_action
from shared.bus import Bus, utcnow
from shared.errors import RuleBroken
from shared.statuses import ReportStatus

RELATIONS = ("follows", "partly_follows", "goes_against")
RELATION_WORDS = {"follows": "follows what most people preferred",
                  "partly_follows": "partly follows what most people preferred",
                  "goes_against": "goes against what most people preferred"}


class ReportRuleBroken(RuleBroken):
    """A request the report's state or rules do not allow; `errors` names the fields."""


@dataclass(frozen=True)
class Links:
    """What a message to a member links to: their own page, signed with the service's secret."""

    feedback_url: str
    secret: str

    def member_page(self, member_ref: str) -> str:
        return member_page_url(self.feedback_url, member_ref, self.secret)

    def report_page(self, report_id: int) -> str:
        return f"{self.feedback_url}/you-said-we-did/{report_id}"


def draft_report(session: Session, payload: dict) -> Report | None:
    """A draft from a survey_closed message; None if this survey has one already."""
    if session.scalar(select(Report.id).where(Report.survey_id == payload["survey_id"])):
        return None
    refs = sorted({str(ref) for ref in payload["respondent_refs"]})
    tags = {("area", area) for area in payload.get("areas") or []}
    tags |= {("topic", topic) for topic in payload.get("topics") or []}
    names = payload.get("sponsor_names") or {}
    report = Report(
        survey_id=payload["survey_id"], title=payload["title"],
        title_translations=dict(payload.get("title_translations") or {}),
        purpose=payload["purpose"],
        scope=payload["scope"], decision=payload["decision"]["description"],
        decision_owner=payload["decision"]["owner"], decision_due=payload["decision"]["due"],
        closed_at=payload["closed_at"], invited=payload["invited"], respondents=len(refs),
        respondent_channels=dict(payload.get("respondent_channels") or {}),
        results=[dict(question) for question in payload["questions"]],
        weighting=dict(payload["weighting"]) if payload.get("weighting") else None,
        representation=[dict(group) for group in payload.get("representation") or []],
        sponsors=[ReportSponsor(agency=agency, name=names.get(agency))
                  for agency in dict.fromkeys(payload["sponsors"])],
        tags=[ReportTag(kind=kind, value=value[:100]) for kind, value in sorted(tags)],
    )
    session.add(report)
    session.flush()
    # One executemany, not a unit of work of 100k objects.
    if refs:
        session.execute(insert(Respondent), [{"report_id": report.id, "member_ref": ref}
                                             for ref in refs])
    return report


def complete_report(report: Report, changes: dict) -> None:
    """Write "we did": the decision, its date, how it relates to what most preferred, and why."""
    if report.status != ReportStatus.DRAFT:
        raise ReportRuleBroken("A published report cannot be changed.", status=409)
    code = changes.get("preference_question", report.preference_question)
    chosen = changes.get("chosen_answer", report.chosen_answer)
    errors = {}
    if "preference_question" in changes or "chosen_answer" in changes:
        question = preference_question(report.results, code)
        if question is None or not question.get("counts"):
            errors["preference_question"] = [
                "Name a question with answers to choose from: "
                + ", ".join(q["code"] for q in report.results if q.get("counts")) + "."]
        elif chosen is not None and chosen not in question["counts"]:
            errors["chosen_answer"] = [
                f"Not an answer to {question['code']}: choose one of "
                + ", ".join(question["counts"]) + "."]
    if errors:
        raise ReportRuleBroken("These changes do not fit the survey's results.", errors)
    for field in ("we_did", "why", "decided_on", "decision_relation", "preference_question",
                  "chosen_answer"):
        if field in changes:
            setattr(report, field, changes[field])


def effective_relation(report: Report) -> str | None:
    """The relation the decision bears to what most preferred: stated, or worked out if worse."""
    implied = relation_implied(report.results, report.preference_question, report.chosen_answer)
    if implied == "goes_against" and report.decision_relation == "follows":
        return "goes_against"
    return report.decision_relation or implied


def publish_problems(report: Report) -> dict[str, list[str]]:
    problems = {}
    if report.status != ReportStatus.DRAFT:
        problems["status"] = ["This report is published already."]
    if not report.we_did:
        problems["we_did"] = ["Say what was decided and done."]
    if not report.decided_on:
        problems["decided_on"] = ["Give the date of the decision."]
    implied = relation_implied(report.results, report.preference_question, report.chosen_answer)
    if report.decision_relation == "follows" and implied == "goes_against":
        preferred = most_preferred(preference_question(report.results,
                                                       report.preference_question))
        problems["decision_relation"] = [
            f"Most people preferred “{preferred['answer']}”, not “{report.chosen_answer}”: "
            "this decision does not follow what most people preferred."]
    relation = effective_relation(report)
    if relation in ("partly_follows", "goes_against") and not report.why:
        problems["why"] = ["Say why the decision differs from what most people preferred."]
    elif relation is None and not report.why:
        # Nobody can tell it follows what most preferred, so it must be explained.
        problems["why"] = ["Say why, or say whether the decision follows, partly follows or "
                           "goes against what most people preferred."]
    return problems


def publish_report(session: Session, bus: Bus, report: Report,
                   now: datetime | None = None) -> int:
    """Publish, and have the worker tell every respondent; returns how many will be told.

    The fan-out to tens of thousands of respondents is the worker's (`tell_respondents`),
    so publishing answers at once however many people answered.
    """
    problems = publish_problems(report)
    if problems:
        status = 409 if "status" in problems else 422
        raise ReportRuleBroken("This report cannot be published yet.", problems, status)
    report.status, report.published_at = ReportStatus.PUBLISHED, now or utcnow()
    bus.send(session, "feedback.report_published", {"report_id": report.id})
    return session.scalar(select(func.count()).select_from(Respondent).where(
        Respondent.report_id == report.id))


def complete(session: Session, *, agency: str, report_id: int, changes: dict) -> Report:
    """A sponsor writes "we did" into its report."""
    report = sponsored_report(session, agency=agency, report_id=report_id)
    complete_report(report, changes)
    session.commit()
    return report


def publish(session: Session, bus: Bus, actor: Actor, *, report_id: int,
            now: datetime | None = None) -> tuple[Report, int]:
    """A sponsor (the actor's agency) publishes its report, recorded in the audit log; the
    report and how many respondents will be told."""
    report = sponsored_report(session, agency=actor.agency, report_id=report_id)
    told = publish_report(session, bus, report, now)
    send_staff_action(session, bus, actor, "report_published", survey_ids=[report.survey_id],
                      detail={"report_id": report.id, "title": report.title})
    session.commit()
    return report, told


def tell_respondents(session: Session, payload: dict, *, bus: Bus, links: Links,
                     batch_size: int, now: datetime | None = None) -> int:
    """Ask panel, in batches, to tell each respondent the outcome; returns how many.

    It runs in one transaction with the message's inbox row, so a worker dying half-way
    leaves nothing behind and the retry does it all. Each message carries a delivery_ref of
    the report and member, so panel sends it once however often it arrives.
    """
    report = session.get(Report, payload["report_id"])
    if report is None or report.status != ReportStatus.PUBLISHED:
        return 0
    now = now or utcnow()
    refs = list(session.scalars(
        select(Respondent.member_ref).where(Respondent.report_id == report.id,
                                            Respondent.notified_at.is_(None))
        .order_by(Respondent.id)))
    context = {"survey_title": report.title, "we_did": report.we_did or "",
               "why": report.why or "It follows what most people who answered preferred.",
               "report_url": links.report_page(report.id),
               **{f"survey_title_{language}": title
                  for language, title in (report.title_translations or {}).items()}}
    for start in range(0, len(refs), batch_size):
        bus.send(session, "panel.deliver", {
            "template": "outcome", "context": context,
            "recipients": [{"member_ref": ref, "delivery_ref": f"outcome:{report.id}:{ref}",
                            "link": links.member_page(ref)}
                           for ref in refs[start:start + batch_size]],
        })
    session.execute(update(Respondent).where(Respondent.report_id == report.id,
                                             Respondent.notified_at.is_(None))
                    .values(notified_at=now, last_told_at=now))
    return len(refs)


def forget_member(session: Session, payload: dict) -> None:
    """An erased member is dropped from every report, so no message of any kind reaches them."""
    session.execute(delete(Respondent).where(Respondent.member_ref == str(payload["member_ref"])))
