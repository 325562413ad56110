"""The feedback JSON API: reports for their sponsors to complete and publish, and the public
reports and scoreboard."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.feedback.accountability import agency_scoreboard
from services.feedback.models import (
    Commitment,
    OverdueFlag,
    Report,
    ReportSponsor,
    ReportTag,
)
from services.feedback.progress import add_commitment, record_progress
from services.feedback.reports import ReportRuleBroken, complete_report, publish_report
from services.feedback.schemas import (
    CommitmentCreateSchema,
    CommitmentSchema,
    OverdueFlagSchema,
    ProgressUpdateCreateSchema,
    ProgressUpdateSchema,
    PublicReportQuerySchema,
    PublicReportSchema,
    PublishResultSchema,
    ReportSchema,
    ReportUpdateSchema,
    ScoreboardRowSchema,
)
from shared.auth import current_caller, require_role
from shared.bus import utcnow
from shared.db import get_session, page_of
from shared.errors import refuse
from shared.service import bus

reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                        description="Feedback reports, for the agencies that sponsored the survey.")
accountability_blp = Blueprint("accountability", __name__, url_prefix="/api/v1/accountability",
                               description="Reports overdue for publication, per agency.")
public_blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                       description="Published reports and the agencies' scoreboard, open to all.")

WRITERS = ("admin", "officer")
REPORT_LOADS = (selectinload(Report.sponsors), selectinload(Report.tags),
                selectinload(Report.commitments).selectinload(Commitment.updates))


def sponsored_by(agency: str):
    return (
        select(Report)
        .where(Report.id.in_(select(ReportSponsor.report_id).where(ReportSponsor.agency == agency)))
        .options(*REPORT_LOADS)
    )


def sponsored_report_or_404(session: Session, report_id: int) -> Report:
    report = session.scalar(sponsored_by(current_caller().agency).where(Report.id == report_id))
    if report is None:
        abort(404, message="No such report.")
    return report


@reports_blp.route("")
class Reports(MethodView):
    decorators = [require_role()]

    @reports_blp.response(200, ReportSchema(many=True))
    @reports_blp.paginate()
    def get(self, pagination_parameters):
        """List the reports of surveys your agency sponsored"""
        statement = sponsored_by(current_caller().agency).order_by(Report.id.desc())
        return page_of(get_session(), statement, pagination_parameters)


@reports_blp.route("/<int:report_id>")
class ReportById(MethodView):
    decorators = [require_role()]

    @reports_blp.response(200, ReportSchema)
    def get(self, report_id):
        """Read a report"""
        return sponsored_report_or_404(get_session(), report_id)

    @reports_blp.arguments(ReportUpdateSchema)
    @reports_blp.response(200, ReportSchema)
    def patch(self, changes, report_id):
        """Write what was decided, when, how it relates to what most preferred, and why"""
        if current_caller().role not in WRITERS:
            abort(403, message="Only officers and admins complete reports.")
        session = get_session()
        report = sponsored_report_or_404(session, report_id)
        try:
            complete_report(report, changes)
        except ReportRuleBroken as exc:
            refuse(exc)
        session.commit()
        return report


@reports_blp.route("/<int:report_id>/publish")
class ReportPublish(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.response(200, PublishResultSchema)
    def post(self, report_id):
        """Publish the report and tell every respondent"""
        session = get_session()
        report = sponsored_report_or_404(session, report_id)
        try:
            told = publish_report(session, bus(), report)
        except ReportRuleBroken as exc:
            refuse(exc)
        session.commit()
        return {"report": report, "respondents_to_tell": told}


@reports_blp.route("/<int:report_id>/commitments")
class ReportCommitments(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.arguments(CommitmentCreateSchema)
    @reports_blp.response(201, CommitmentSchema)
    def post(self, data, report_id):
        """Add a commitment: an action, the agency responsible and its due date"""
        session = get_session()
        report = sponsored_report_or_404(session, report_id)
        try:
            commitment = add_commitment(report, data)
        except ReportRuleBroken as exc:
            refuse(exc)
        session.commit()
        return commitment


@reports_blp.route("/<int:report_id>/commitments/<int:commitment_id>/updates")
class CommitmentUpdates(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.arguments(ProgressUpdateCreateSchema)
    @reports_blp.response(201, ProgressUpdateSchema)
    def post(self, data, report_id, commitment_id):
        """Record dated progress on a commitment (in progress, done, or dropped with a reason)"""
        session = get_session()
        report = sponsored_report_or_404(session, report_id)
        commitment = next((c for c in report.commitments if c.id == commitment_id), None)
        if commitment is None:
            abort(404, message="No such commitment in this report.")
        if commitment.agency != current_caller().agency:
            abort(403, message=f"Only {commitment.agency}, who made this commitment, reports "
                               "its progress.")
        try:
            update = record_progress(report, commitment, data)
        except ReportRuleBroken as exc:
            refuse(exc)
        session.commit()
        return update


@accountability_blp.route("/overdue")
class OverdueReports(MethodView):
    decorators = [require_role()]

    @accountability_blp.response(200, OverdueFlagSchema(many=True))
    def get(self):
        """Your agency's reports flagged overdue: closed too long ago with nothing published"""
        rows = get_session().execute(
            select(OverdueFlag, Report.title, Report.closed_at).join(
                Report, Report.id == OverdueFlag.report_id)
            .where(OverdueFlag.agency == current_caller().agency,
                   OverdueFlag.resolved.is_(False))
            .order_by(OverdueFlag.days_overdue.desc(), OverdueFlag.report_id)).all()
        return [{"report_id": flag.report_id, "title": title, "agency": flag.agency,
                 "closed_at": closed_at, "days_overdue": flag.days_overdue,
                 "first_flagged_at": flag.first_flagged_at,
                 "last_flagged_at": flag.last_flagged_at} for flag, title, closed_at in rows]


def published(agency: str | None = None, area: str | None = None, topic: str | None = None):
    """Published reports, newest first, narrowed by sponsor agency, area and topic."""
    statement = (select(Report).where(Report.status == "published").options(*REPORT_LOADS)
                 .order_by(Report.published_at.desc(), Report.id.desc()))
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


def scoreboard_now() -> list[dict]:
    return agency_scoreboard(get_session(), now=utcnow(),
                             overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])


@public_blp.route("/reports")
class PublicReports(MethodView):
    @public_blp.arguments(PublicReportQuerySchema, location="query")
    @public_blp.response(200, PublicReportSchema(many=True))
    @public_blp.paginate()
    def get(self, filters, pagination_parameters):
        """List published "you said, we did" reports, by agency, area or topic"""
        return page_of(get_session(), published(**filters), pagination_parameters)


@public_blp.route("/reports/<int:report_id>")
class PublicReportById(MethodView):
    @public_blp.response(200, PublicReportSchema)
    def get(self, report_id):
        """Read a published report"""
        report = published_report(get_session(), report_id)
        if report is None:
            abort(404, message="No published report has this id.")
        return report


@public_blp.route("/scoreboard")
class Scoreboard(MethodView):
    @public_blp.response(200, ScoreboardRowSchema(many=True))
    def get(self):
        """How each agency keeps its promises: reports published, overdue, commitments kept"""
        return scoreboard_now()
