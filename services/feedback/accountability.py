"""How each agency keeps its promises: reports published, overdue, commitments kept."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.feedback import queries
from services.feedback.models import Commitment, OverdueFlag, Report
from shared.statuses import CommitmentStatus, ReportStatus


def is_overdue(status: str, closed_at: datetime, now: datetime, overdue_days: int) -> bool:
    """A report is overdue when its survey closed more than `overdue_days` ago, unpublished."""
    return status != ReportStatus.PUBLISHED and closed_at + timedelta(days=overdue_days) < now


def days_overdue(closed_at: datetime, now: datetime, overdue_days: int) -> int:
    return max(0, (now - closed_at - timedelta(days=overdue_days)).days)


def commitment_timing(status: str, due_on: date, done_on: date | None, today: date) -> str:
    """"on_time", "late" or "dropped": done by its due date, or open and not yet due, is on time."""
    if status == CommitmentStatus.DROPPED:
        return "dropped"
    if status == CommitmentStatus.DONE:
        return "on_time" if done_on is not None and done_on <= due_on else "late"
    return "on_time" if today <= due_on else "late"


def scoreboard(reports: list[dict], commitments: list[dict], *, now: datetime,
               overdue_days: int) -> list[dict]:
    """One row per agency, sorted by agency.

    `reports`: {"agencies", "status", "closed_at", "published_at"} per report of a closed
    survey; `commitments`: {"agency", "status", "due_on", "done_on"}.
    """
    rows: dict[str, dict] = defaultdict(lambda: {
        "surveys_closed": 0, "reports_published": 0, "overdue_reports": 0, "_days": [],
        "commitments": 0, "commitments_done": 0, "commitments_on_time": 0,
        "commitments_late": 0, "commitments_dropped": 0})
    for report in reports:
        for agency in report["agencies"]:
            row = rows[agency]
            row["surveys_closed"] += 1
            if report["status"] == ReportStatus.PUBLISHED:
                row["reports_published"] += 1
                elapsed = report["published_at"] - report["closed_at"]
                row["_days"].append(elapsed.total_seconds() / 86400)
            elif is_overdue(report["status"], report["closed_at"], now, overdue_days):
                row["overdue_reports"] += 1
    today = now.date()
    for commitment in commitments:
        row = rows[commitment["agency"]]
        row["commitments"] += 1
        if commitment["status"] == CommitmentStatus.DONE:
            row["commitments_done"] += 1
        timing = commitment_timing(commitment["status"], commitment["due_on"],
                                   commitment["done_on"], today)
        row[f"commitments_{timing}"] += 1
    table = []
    for agency in sorted(rows):
        row = rows[agency]
        days = row.pop("_days")
        row["median_days_to_publish"] = round(median(days), 1) if days else None
        table.append({"agency": agency, **row})
    return table


def agency_scoreboard(session: Session, *, now: datetime, overdue_days: int) -> list[dict]:
    """The scoreboard of every agency that sponsored a closed survey or made a commitment."""
    reports = [{"agencies": [s.agency for s in report.sponsors], "status": report.status,
                "closed_at": report.closed_at, "published_at": report.published_at}
               for report in session.scalars(select(Report).options(selectinload(Report.sponsors)))]
    commitments = [{"agency": agency, "status": status, "due_on": due_on, "done_on": done_on}
                   for agency, status, due_on, done_on in session.execute(
                       select(Commitment.agency, Commitment.status, Commitment.due_on,
                              Commitment.done_on))]
    names = queries.agency_names(session)
    return [{**row, "name": names.get(row["agency"], row["agency"])}
            for row in scoreboard(reports, commitments, now=now, overdue_days=overdue_days)]


def flag_overdue_reports(session: Session, *, now: datetime, overdue_days: int) -> list[dict]:
    """Flag each overdue report to every agency that sponsored it; returns the flags raised
    or renewed. A flag is resolved once its report is published."""
    cutoff = now - timedelta(days=overdue_days)
    overdue = list(session.scalars(
        select(Report).where(Report.status != ReportStatus.PUBLISHED, Report.closed_at < cutoff)
        .options(selectinload(Report.sponsors)).order_by(Report.id)))
    flags = {(f.report_id, f.agency): f for f in session.scalars(
        select(OverdueFlag).where(OverdueFlag.report_id.in_([r.id for r in overdue])))}
    raised = []
    for report in overdue:
        days = days_overdue(report.closed_at, now, overdue_days)
        for sponsor in report.sponsors:
            flag = flags.get((report.id, sponsor.agency))
            if flag is None:
                flag = OverdueFlag(report_id=report.id, agency=sponsor.agency,
                                   first_flagged_at=now, last_flagged_at=now, days_overdue=days)
                session.add(flag)
            flag.last_flagged_at, flag.days_overdue, flag.resolved = now, days, False
            raised.append({"report_id": report.id, "agency": sponsor.agency,
                           "title": report.title, "days_overdue": days})
    for flag in session.scalars(select(OverdueFlag).join(Report).where(
            OverdueFlag.resolved.is_(False), Report.status == ReportStatus.PUBLISHED)):
        flag.resolved = True
    return raised


def raise_overdue_flags(session: Session, *, now: datetime, overdue_days: int) -> list[dict]:
    """The daily run: flag overdue reports to their sponsors, and keep the flags."""
    flags = flag_overdue_reports(session, now=now, overdue_days=overdue_days)
    session.commit()
    return flags


@dataclass
class AgencyDesk:
    """What an agency is behind on: reports overdue, commitments late, and its scoreboard row."""

    overdue_reports: list[dict]
    late_commitments: list
    row: dict | None
    overdue_days: int


def agency_desk(session: Session, *, agency: str, now: datetime, overdue_days: int) -> AgencyDesk:
    rows = agency_scoreboard(session, now=now, overdue_days=overdue_days)
    return AgencyDesk(
        overdue_reports=queries.overdue_for(session, agency=agency),
        late_commitments=queries.late_commitments(session, agency=agency, today=now.date()),
        row=next((row for row in rows if row["agency"] == agency), None),
        overdue_days=overdue_days)
