"""Commitments made in a report, their dated progress, and telling respondents at most weekly."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from services.feedback.models import Commitment, CommitmentUpdate, Report, Respondent
from services.feedback.queries import sponsored_report
from services.feedback.reports import Links, ReportRuleBroken
from shared.bus import Bus, utcnow
from shared.errors import NotFound
from shared.statuses import CommitmentStatus, ReportStatus, is_final, may_move

STATUS_WORDS = {CommitmentStatus.PLANNED: "planned",
                CommitmentStatus.IN_PROGRESS: "in progress",
                CommitmentStatus.DONE: "done", CommitmentStatus.DROPPED: "dropped"}
QUIET_PERIOD = timedelta(days=7)
NEWS_LENGTH = 300  # it goes into an SMS whole


class AlreadyRecorded(ReportRuleBroken):
    """The same commitment or progress again: a form sent twice, or a request repeated after
    its answer was lost. Nothing more is added."""

    def __init__(self, message: str, errors: dict):
        super().__init__(message, errors, status=409)


def add_commitment(report: Report, data: dict) -> Commitment:
    """A promise made in the report: an action, the agency (and owner) responsible, a due date."""
    sponsors = [s.agency for s in report.sponsors]
    if data["agency"] not in sponsors:
        raise ReportRuleBroken("The responsible agency must sponsor this report's survey.",
                               {"agency": [f"Choose one of: {', '.join(sponsors)}."]})
    same = next((c for c in report.commitments if c.agency == data["agency"]
                 and c.due_on == data["due_on"] and _same_words(c.action, data["action"])), None)
    if same is not None:
        raise AlreadyRecorded("This report already has that commitment, for the same agency "
                              "and due date.", {"action": [f"already commitment {same.id}"]})
    commitment = Commitment(action=data["action"], agency=data["agency"], owner=data.get("owner"),
                            due_on=data["due_on"], status=CommitmentStatus.PLANNED)
    report.commitments.append(commitment)
    return commitment


def _same_words(one: str, other: str) -> bool:
    """The same text but for case and spacing."""
    return " ".join(one.casefold().split()) == " ".join(other.casefold().split())


def record_progress(report: Report, commitment: Commitment, data: dict, *,
                    now: datetime | None = None) -> CommitmentUpdate:
    """A dated update; it may move the commitment on. Done and dropped are final.

    On a published report the update becomes news for the respondents.
    """
    now = now or utcnow()
    status = data.get("status") or commitment.status
    if is_final(commitment.status, CommitmentStatus):
        raise ReportRuleBroken(f"This commitment is {commitment.status}: it cannot change.",
                               {"status": [f"already {commitment.status}"]}, status=409)
    if status != commitment.status and not may_move(commitment.status, status,
                                                    CommitmentStatus):
        raise ReportRuleBroken(f"A commitment {STATUS_WORDS[commitment.status]} cannot go back "
                               f"to {STATUS_WORDS[status]}.", {"status": [status]}, status=409)
    if status == CommitmentStatus.DROPPED and not data.get("reason"):
        raise ReportRuleBroken("Say why the commitment was dropped.",
                               {"reason": ["A dropped commitment needs a reason."]})
    written_on: date = data.get("written_on") or now.date()
    last = commitment.updates[-1] if commitment.updates else None
    if last is not None and (last.written_on, last.status) == (written_on, status) \
            and _same_words(last.text, data["text"]):
        raise AlreadyRecorded("That progress is already recorded, on the same day.",
                              {"text": [f"already update {last.id}"]})
    update = CommitmentUpdate(written_on=written_on, text=data["text"], status=status)
    commitment.updates.append(update)
    commitment.status = status
    if status == CommitmentStatus.DONE:
        commitment.done_on = written_on
    if status == CommitmentStatus.DROPPED:
        commitment.dropped_reason = data["reason"]
    if report.status == ReportStatus.PUBLISHED:
        report.news_at = now
    return update


def make_commitment(session: Session, *, agency: str, report_id: int, data: dict) -> Commitment:
    """A sponsor adds a commitment to its report."""
    report = sponsored_report(session, agency=agency, report_id=report_id)
    session.refresh(report, with_for_update=True)  # the same request twice at once: one wins
    commitment = add_commitment(report, data)
    session.commit()
    return commitment


def report_progress(session: Session, *, agency: str, report_id: int, commitment_id: int,
                    data: dict) -> CommitmentUpdate:
    """The agency that made a commitment records its progress."""
    report = sponsored_report(session, agency=agency, report_id=report_id)
    session.refresh(report, with_for_update=True)  # the same request twice at once: one wins
    commitment = next((c for c in report.commitments if c.id == commitment_id), None)
    if commitment is None:
        raise NotFound("No such commitment in this report.")
    if commitment.agency != agency:
        raise ReportRuleBroken(f"Only {commitment.agency}, who made this commitment, reports "
                               "its progress.", status=403)
    update = record_progress(report, commitment, data)
    session.commit()
    return update


def news_of(report: Report) -> str:
    """One line on where each commitment stands, for the progress message."""
    parts = [f"{c.action}: {STATUS_WORDS[c.status]}" for c in report.commitments]
    text = "; ".join(parts) + "." if parts else ""
    return text if len(text) <= NEWS_LENGTH else text[:NEWS_LENGTH - 1] + "…"


def notify_progress(session: Session, bus: Bus, *, links: Links, batch_size: int,
                    now: datetime | None = None) -> int:
    """Tell respondents of news on commitments, but nobody more than once a week.

    A member told anything by feedback in the last seven days waits; their news is
    still pending next time. Returns how many members were told this run.
    """
    now = now or utcnow()
    quiet_since = now - QUIET_PERIOD
    reports = session.scalars(
        select(Report).where(Report.status == ReportStatus.PUBLISHED, Report.news_at.is_not(None))
        .options(selectinload(Report.commitments)).order_by(Report.news_at, Report.id)).all()
    told = 0
    for report in reports:
        last_told = (select(Respondent.member_ref,
                            func.max(Respondent.last_told_at).label("last"))
                     .group_by(Respondent.member_ref).subquery())
        due = session.execute(
            select(Respondent.id, Respondent.member_ref)
            .join(last_told, last_told.c.member_ref == Respondent.member_ref)
            .where(Respondent.report_id == report.id,
                   # Told the outcome first: news never overtakes it.
                   Respondent.notified_at.is_not(None),
                   or_(Respondent.progress_told_at.is_(None),
                       Respondent.progress_told_at < report.news_at),
                   or_(last_told.c.last.is_(None), last_told.c.last <= quiet_since))
            .order_by(Respondent.id)).all()
        if not due:
            continue
        stamp = int(report.news_at.timestamp() * 1_000_000)
        news = news_of(report)
        context = {"survey_title": report.title, "news": news, "update": news,
                   "report_url": links.report_page(report.id)}
        for start in range(0, len(due), batch_size):
            batch = due[start:start + batch_size]
            bus.send(session, "panel.deliver", {
                "template": "progress", "context": context,
                "recipients": [{"member_ref": ref,
                                "delivery_ref": f"progress:{report.id}:{ref}:{stamp}",
                                "link": links.member_page(ref)} for _, ref in batch],
            })
            # Written before the next report's query, which must see who was just told.
            session.execute(update(Respondent).where(Respondent.id.in_([i for i, _ in batch]))
                            .values(progress_told_at=report.news_at, last_told_at=now))
        told += len(due)
    return told


def tell_progress(session: Session, bus: Bus, *, links: Links, batch_size: int,
                  now: datetime | None = None) -> int:
    """The hourly run: tell respondents of news, and keep who was told."""
    told = notify_progress(session, bus, links=links, batch_size=batch_size, now=now)
    session.commit()
    return told
