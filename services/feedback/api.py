"""The feedback JSON API: reports for their sponsors to complete and publish, and the public list."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.feedback.models import Report, ReportSponsor
from services.feedback.reports import ReportRuleBroken, complete_report, publish_report
from services.feedback.schemas import PublishResultSchema, ReportSchema, ReportUpdateSchema
from shared.auth import current_caller, require_role
from shared.db import get_session, page_of
from shared.service import bus

reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                        description="Feedback reports, for the agencies that sponsored the survey.")
public_blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                       description="Published reports, open to everyone.")

WRITERS = ("admin", "officer")


def sponsored_by(agency: str):
    return (
        select(Report)
        .where(Report.id.in_(select(ReportSponsor.report_id).where(ReportSponsor.agency == agency)))
        .options(selectinload(Report.sponsors))
    )


def sponsored_report_or_404(session: Session, report_id: int) -> Report:
    report = session.scalar(sponsored_by(current_caller().agency).where(Report.id == report_id))
    if report is None:
        abort(404, message="No such report.")
    return report


def public_report_url(report_id: int) -> str:
    return f"{current_app.config['FEEDBACK_URL']}/you-said-we-did/{report_id}"


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
        """Write what was done and why, and the date of the decision"""
        if current_caller().role not in WRITERS:
            abort(403, message="Only officers and admins complete reports.")
        session = get_session()
        report = sponsored_report_or_404(session, report_id)
        try:
            complete_report(report, changes)
        except ReportRuleBroken as exc:
            abort(exc.status, message=str(exc), errors={"json": exc.errors})
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
            told = publish_report(session, bus(), report, report_url=public_report_url(report.id),
                                  batch_size=current_app.config["DELIVERY_BATCH_SIZE"])
        except ReportRuleBroken as exc:
            abort(exc.status, message=str(exc), errors={"json": exc.errors})
        session.commit()
        return {"report": report, "respondents_to_tell": told}


def published():
    return (select(Report).where(Report.status == "published")
            .options(selectinload(Report.sponsors)).order_by(Report.published_at.desc()))


@public_blp.route("/reports")
class PublicReports(MethodView):
    @public_blp.response(200, ReportSchema(many=True))
    @public_blp.paginate()
    def get(self, pagination_parameters):
        """List published "you said, we did" reports"""
        return page_of(get_session(), published(), pagination_parameters)
