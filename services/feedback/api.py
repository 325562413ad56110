"""The feedback JSON API: reports for their sponsors to complete and publish, and the public
reports and scoreboard."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from services.feedback import queries
from services.feedback.accountability import agency_scoreboard
from services.feedback.models import Report
from services.feedback.progress import make_commitment, report_progress
from services.feedback.reports import complete, publish
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
from shared.audit import current_actor
from shared.auth import current_caller, require_role
from shared.bus import utcnow
from shared.db import get_session, page_of
from shared.service import bus

reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                        description="Feedback reports, for the agencies that sponsored the survey.")
accountability_blp = Blueprint("accountability", __name__, url_prefix="/api/v1/accountability",
                               description="Reports overdue for publication, per agency.")
public_blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                       description="Published reports and the agencies' scoreboard, open to all.")

# Who completes and publishes a report, adds commitments and records their progress: the
# console's report pages (services/feedback/report_views.py) take the same roles.
WRITERS = ("admin", "officer", "decision_owner")


@reports_blp.route("")
class Reports(MethodView):
    decorators = [require_role()]

    @reports_blp.response(200, ReportSchema(many=True))
    @reports_blp.paginate()
    def get(self, pagination_parameters):
        """List the reports of surveys your agency sponsored"""
        statement = queries.sponsored_by(current_caller().agency).order_by(Report.id.desc())
        return page_of(get_session(), statement, pagination_parameters)


@reports_blp.route("/<int:report_id>")
class ReportById(MethodView):
    decorators = [require_role()]

    @reports_blp.response(200, ReportSchema)
    def get(self, report_id):
        """Read a report"""
        return queries.sponsored_report(get_session(), agency=current_caller().agency,
                                        report_id=report_id)

    @require_role(*WRITERS)
    @reports_blp.arguments(ReportUpdateSchema)
    @reports_blp.response(200, ReportSchema)
    def patch(self, changes, report_id):
        """Write what was decided, when, how it relates to what most preferred, and why"""
        return complete(get_session(), agency=current_caller().agency, report_id=report_id,
                        changes=changes)


@reports_blp.route("/<int:report_id>/publish")
class ReportPublish(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.response(200, PublishResultSchema)
    def post(self, report_id):
        """Publish the report and tell every respondent"""
        report, told = publish(get_session(), bus(), current_actor(), report_id=report_id)
        return {"report": report, "respondents_to_tell": told}


@reports_blp.route("/<int:report_id>/commitments")
class ReportCommitments(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.arguments(CommitmentCreateSchema)
    @reports_blp.response(201, CommitmentSchema)
    @reports_blp.alt_response(409, response="CONFLICT")  # the same commitment again
    def post(self, data, report_id):
        """Add a commitment: an action, the agency responsible and its due date"""
        return make_commitment(get_session(), agency=current_caller().agency,
                               report_id=report_id, data=data)


@reports_blp.route("/<int:report_id>/commitments/<int:commitment_id>/updates")
class CommitmentUpdates(MethodView):
    decorators = [require_role(*WRITERS)]

    @reports_blp.arguments(ProgressUpdateCreateSchema)
    @reports_blp.response(201, ProgressUpdateSchema)
    @reports_blp.alt_response(409, response="CONFLICT")  # final already, or the same again
    def post(self, data, report_id, commitment_id):
        """Record dated progress on a commitment (in progress, done, or dropped with a reason)"""
        return report_progress(get_session(), agency=current_caller().agency,
                               report_id=report_id, commitment_id=commitment_id, data=data)


@accountability_blp.route("/overdue")
class OverdueReports(MethodView):
    decorators = [require_role()]

    @accountability_blp.response(200, OverdueFlagSchema(many=True))
    def get(self):
        """Your agency's reports flagged overdue: closed too long ago with nothing published"""
        return queries.overdue_for(get_session(), agency=current_caller().agency)


@public_blp.route("/reports")
class PublicReports(MethodView):
    @public_blp.arguments(PublicReportQuerySchema, location="query")
    @public_blp.response(200, PublicReportSchema(many=True))
    @public_blp.paginate()
    def get(self, filters, pagination_parameters):
        """List published "you said, we did" reports, by agency, area or topic"""
        return page_of(get_session(), queries.published(**filters), pagination_parameters)


@public_blp.route("/reports/<int:report_id>")
class PublicReportById(MethodView):
    @public_blp.response(200, PublicReportSchema)
    def get(self, report_id):
        """Read a published report"""
        return queries.public_report(get_session(), report_id)


@public_blp.route("/scoreboard")
class Scoreboard(MethodView):
    @public_blp.response(200, ScoreboardRowSchema(many=True))
    def get(self):
        """How each agency keeps its promises: reports published, overdue, commitments kept"""
        return agency_scoreboard(get_session(), now=utcnow(),
                                 overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])
