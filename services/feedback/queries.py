"""What feedback's entry points read: reports an agency sponsored, and what is published."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.feedback.models import (
    Commitment,
    OverdueFlag,
    Report,
    ReportSponsor,
    ReportTag,
    Respondent,
)
from shared.errors import NotFound
from shared.statuses import CommitmentStatus, ReportStatus

REPORT_LOADS = (selectinload(Report.sponsors), selectinload(Report.tags),
                selectinload(Report.commitments).selectinload(Commitment.updates))


def sponsored_by(agency: str):
    """Reports of surveys the agency sponsored, with what a report page shows."""
    return (
        select(Report)
        .where(Report.id.in_(select(ReportSponsor.report_id).where(ReportSponsor.agency == agency)))
        .options(*REPORT_LOADS)
    )


def sponsored_report(session: Session, *, agency: str, report_id: int) -> Report:
    """The report when the agency sponsored its survey; otherwise as if it did not exist."""
    report = session.scalar(sponsored_by(agency).where(Report.id == report_id))
    if report is None:
        raise NotFound("No such report.")
    return report


def overdue_for(session: Session, *, agency: str) -> list[dict]:
    """The agency's reports flagged overdue and not yet published, most overdue first."""
    rows = session.execute(
        select(OverdueFlag, Report.title, Report.closed_at)
        .join(Report, Report.id == OverdueFlag.report_id)
        .where(OverdueFlag.agency == agency, OverdueFlag.resolved.is_(False),
               # Published since the daily run flagged it: no longer overdue.
               Report.status != ReportStatus.PUBLISHED)
        .order_by(OverdueFlag.days_overdue.desc(), OverdueFlag.report_id)).all()
    return [{"report_id": flag.report_id, "title": title, "agency": flag.agency,
             "closed_at": closed_at, "days_overdue": flag.days_overdue,
             "first_flagged_at": flag.first_flagged_at, "last_flagged_at": flag.last_flagged_at}
            for flag, title, closed_at in rows]


def published(agency: str | None = None, area: str | None = None, topic: str | None = None):
    """Published reports, newest first, narrowed by sponsor agency, area and topic."""
    statement = (select(Report).where(Report.status == ReportStatus.PUBLISHED)
                 .options(*REPORT_LOADS).order_by(Report.published_at.desc(), Report.id.desc()))
    if agency:
        statement = statement.where(Report.id.in_(
            select(ReportSponsor.report_id).where(ReportSponsor.agency == agency)))
    for kind, value in (("area", area), ("topic", topic)):
        if value:
            statement = statement.where(Report.id.in_(
                select(ReportTag.report_id).where(ReportTag.kind == kind,
                                                  ReportTag.value == value)))
    return statement


def published_report(session: Session, report_id: int) -> Report | None:
    return session.scalar(published().where(Report.id == report_id))


def public_report(session: Session, report_id: int) -> Report:
    report = published_report(session, report_id)
    if report is None:
        raise NotFound("No published report has this id.")
    return report


def respondents_to_tell(session: Session, report_id: int) -> int:
    """How many people who answered the report's survey are to be told its outcome."""
    return session.scalar(select(func.count()).select_from(Respondent).where(
        Respondent.report_id == report_id, Respondent.notified_at.is_(None)))


def agency_names(session: Session) -> dict[str, str]:
    """Each sponsor agency's name, as surveys last sent it with a closed survey."""
    rows = session.execute(select(ReportSponsor.agency, ReportSponsor.name)
                           .where(ReportSponsor.name.is_not(None))
                           .order_by(ReportSponsor.report_id)).all()
    return dict(rows)



def late_commitments(session: Session, *, agency: str, today) -> list[tuple[Commitment, Report]]:
    """The agency's commitments past their due date and neither done nor dropped."""
    return list(session.execute(
        select(Commitment, Report).join(Report, Report.id == Commitment.report_id)
        .where(Commitment.agency == agency, Commitment.due_on < today,
               Commitment.status.not_in((CommitmentStatus.DONE, CommitmentStatus.DROPPED)))
        .order_by(Commitment.due_on, Commitment.id)).all())
