"""Drafting a report from a closed survey's results, completing it, and publishing it."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.feedback.models import Report, ReportSponsor, Respondent
from shared.bus import Bus, utcnow


class ReportRuleBroken(ValueError):
    def __init__(self, message: str, errors: dict | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


def draft_report(session: Session, payload: dict) -> Report | None:
    """A draft from a survey_closed message; None if this survey has one already."""
    if session.scalar(select(Report.id).where(Report.survey_id == payload["survey_id"])):
        return None
    refs = sorted({str(ref) for ref in payload["respondent_refs"]})
    report = Report(
        survey_id=payload["survey_id"], title=payload["title"], purpose=payload["purpose"],
        scope=payload["scope"], decision=payload["decision"]["description"],
        decision_owner=payload["decision"]["owner"], decision_due=payload["decision"]["due"],
        closed_at=payload["closed_at"], invited=payload["invited"], respondents=len(refs),
        results=payload["questions"],
        sponsors=[ReportSponsor(agency=agency) for agency in payload["sponsors"]],
    )
    session.add(report)
    session.flush()
    session.add_all(Respondent(report_id=report.id, member_ref=ref) for ref in refs)
    return report


def complete_report(report: Report, changes: dict) -> None:
    if report.status != "draft":
        raise ReportRuleBroken("A published report cannot be changed.", status=409)
    for field in ("we_did", "why", "decided_on"):
        if field in changes:
            setattr(report, field, changes[field])


def publish_problems(report: Report) -> dict[str, list[str]]:
    problems = {}
    if report.status != "draft":
        problems["status"] = ["This report is published already."]
    if not report.we_did:
        problems["we_did"] = ["Say what was decided and done."]
    if not report.why:
        problems["why"] = ["Say why, so people can see how their answers were used."]
    if not report.decided_on:
        problems["decided_on"] = ["Give the date of the decision."]
    return problems


def publish_report(session: Session, bus: Bus, report: Report, *, report_url: str,
                   batch_size: int) -> int:
    """Publish, and ask panel to tell every respondent; returns how many will be told."""
    problems = publish_problems(report)
    if problems:
        status = 409 if "status" in problems else 422
        raise ReportRuleBroken("This report cannot be published yet.", problems, status)
    report.status, report.published_at = "published", utcnow()
    respondents = list(session.scalars(
        select(Respondent).where(Respondent.report_id == report.id).order_by(Respondent.id)))
    context = {"survey_title": report.title, "we_did": report.we_did, "why": report.why}
    for start in range(0, len(respondents), batch_size):
        batch = respondents[start:start + batch_size]
        bus.send(session, "panel.deliver", {
            "template": "outcome", "context": context,
            "recipients": [{"member_ref": r.member_ref,
                            "delivery_ref": f"outcome:{report.id}:{r.member_ref}",
                            "link": report_url} for r in batch],
        })
        for respondent in batch:
            respondent.notified_at = report.published_at
    return len(respondents)


def forget_member(session: Session, payload: dict) -> None:
    """An erased member is dropped from every outcome message not yet sent to them."""
    session.execute(delete(Respondent).where(Respondent.member_ref == str(payload["member_ref"]),
                                             Respondent.notified_at.is_(None)))
