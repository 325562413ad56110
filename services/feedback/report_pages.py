"""What the report pages show: a report as the public sees it (its published page and the
console's preview of it), and a report as its sponsor completes it in the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from services.feedback import queries
from services.feedback.charts import result_charts
from services.feedback.findings import (
    headline,
    published_results,
    representativeness_note,
)
from services.feedback.models import Commitment, Report
from services.feedback.reports import effective_relation, publish_problems
from services.feedback.schemas import PublicReportSchema
from shared.disclosure import is_small
from shared.errors import NotFound
from shared.statuses import ReportStatus

# The outcome message goes to each respondent the way they chose to hear from the panel.
CHANNEL_NAMES = {"email": "email", "sms": "text message (SMS)"}


def public_view(report: Report, threshold: int, today: date) -> dict:
    """The context of the public report page: the figures through the small-cell rule.

    A hidden count is "fewer than" the threshold only when it is small itself; others are
    hidden so that a small one cannot be worked out from the total.
    """
    results = [{**q, "headline": headline(raw, threshold),
                "small": {answer for answer, count in (raw.get("counts") or {}).items()
                          if is_small(count, threshold)}}
               for q, raw in zip(published_results(report.results, threshold), report.results,
                                 strict=True)]
    shown = PublicReportSchema().dump(report)
    return {"report": report, "results": results, "threshold": threshold,
            "charts": result_charts(results),
            "most_preferred": shown["most_preferred"], "relation": effective_relation(report),
            "notes": representativeness_note(report.representation or [], report.weighting,
                                             report.respondents, report.invited, threshold,
                                             report.results),
            "sponsor_names": {s.agency: s.name or s.agency for s in report.sponsors},
            "today": today}


@dataclass
class ReportDesk:
    """A sponsor's report as the console shows it while it is completed and published."""

    report: Report
    public: dict
    problems: dict[str, list[str]]
    choice_questions: list[dict]
    to_tell: int
    agency_names: dict[str, str]

    @property
    def draft(self) -> bool:
        return self.report.status == ReportStatus.DRAFT

    @property
    def invited_by(self) -> list[tuple[str, int]]:
        """(channel's name, respondents) of the channels respondents were invited by."""
        found = self.report.respondent_channels or {}
        return [(name, found[channel]) for channel, name in CHANNEL_NAMES.items()
                if found.get(channel)]

    def name_of(self, agency: str) -> str:
        return self.agency_names.get(agency) or agency

    def commitment(self, commitment_id: int) -> Commitment:
        found = next((c for c in self.report.commitments if c.id == commitment_id), None)
        if found is None:
            raise NotFound("No such commitment in this report.")
        return found


def report_desk(session: Session, *, agency: str, report_id: int, threshold: int,
                today: date) -> ReportDesk:
    """The agency's report with what its pages need; 404 for another agency's."""
    report = queries.sponsored_report(session, agency=agency, report_id=report_id)
    return ReportDesk(
        report=report, public=public_view(report, threshold, today),
        problems=publish_problems(report) if report.status == ReportStatus.DRAFT else {},
        choice_questions=[q for q in report.results if q.get("counts")
                          and q.get("type") in ("single_choice", "yes_no")],
        to_tell=queries.respondents_to_tell(session, report.id),
        agency_names={s.agency: s.name or s.agency for s in report.sponsors},
    )
