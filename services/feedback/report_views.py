"""The decision owner's report pages: a report drafted from the results, the form for what was
decided and why, its commitments and their progress, the preview as the public will see it,
and publishing behind a confirmation. Each posts the API's documents to the API's use cases
(services/feedback/reports.py, progress.py), refused by the same rules and roles."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from services.feedback import report_forms as forms
from services.feedback.accountability import agency_desk
from services.feedback.api import WRITERS
from services.feedback.charts import result_chart_svg
from services.feedback.progress import AlreadyRecorded, make_commitment, report_progress
from services.feedback.report_pages import CHANNEL_NAMES, ReportDesk, report_desk
from services.feedback.reports import ReportRuleBroken, complete, publish
from services.feedback.schemas import (
    CommitmentCreateSchema,
    ProgressUpdateCreateSchema,
    ReportUpdateSchema,
)
from shared.audit import current_actor
from shared.auth import current_caller
from shared.bus import utcnow
from shared.charts import svg_headers
from shared.console import staff_page
from shared.db import get_session
from shared.service import bus

report_pages = Blueprint("report_pages", __name__, template_folder="templates")


def _desk(report_id: int) -> ReportDesk:
    return report_desk(get_session(), agency=current_caller().agency, report_id=report_id,
                       threshold=current_app.config["SMALL_CELL_THRESHOLD"],
                       today=utcnow().date())


def _page(template: str, desk: ReportDesk, problems=None, status: int = 200, **context):
    return render_template(f"console/report/{template}.html", desk=desk, report=desk.report,
                           problems=problems or forms.Problems(), forms=forms,
                           channels=tuple(CHANNEL_NAMES.values()), **context), status


def _form_refused(broken: ReportRuleBroken, report_id: int, template: str, fallback: str,
                  **context):
    """A form the rules refused, shown again with what was typed and an error summary;
    refusals not about the form (403, 409) go to the one error handler."""
    if broken.status != 422:
        raise broken
    return _page(template, _desk(report_id), forms.refused(broken, fallback), 400, **context)


def _to_report(report_id: int, **arguments):
    return redirect(url_for("report_pages.report_page", report_id=report_id, **arguments),
                    code=303)


@report_pages.get("/reports/<int:report_id>")
@staff_page(*WRITERS)
def report_page(report_id: int):
    desk = _desk(report_id)
    saved = request.args.get("saved") == "1"
    # Once saved, what still stops publishing is said against its fields.
    to_do = forms.problems(desk.problems, "we_did", forms.PUBLISH_ANCHORS) if saved else None
    return _page("report", desk, to_do, values=forms.decision_values(desk.report),
                 saved=saved, published=request.args.get("published") == "1")


@report_pages.post("/reports/<int:report_id>")
@staff_page(*WRITERS)
def save_decision(report_id: int):
    try:
        complete(get_session(), agency=current_caller().agency, report_id=report_id,
                 changes=forms.parsed(ReportUpdateSchema(), forms.decision_changes(request.form)))
    except ReportRuleBroken as broken:
        return _form_refused(broken, report_id, "report", "we_did",
                             values=forms.decision_typed(request.form))
    return _to_report(report_id, saved=1)


@report_pages.get("/reports/<int:report_id>/commitments/new")
@staff_page(*WRITERS)
def new_commitment(report_id: int):
    return _page("commitment", _desk(report_id), values={})


@report_pages.post("/reports/<int:report_id>/commitments/new")
@staff_page(*WRITERS)
def add_commitment(report_id: int):
    document = forms.commitment_input(request.form)
    try:
        make_commitment(get_session(), agency=current_caller().agency, report_id=report_id,
                        data=forms.parsed(CommitmentCreateSchema(), document))
    except AlreadyRecorded:  # the form sent twice: the report shows it, once
        pass
    except ReportRuleBroken as broken:
        return _form_refused(broken, report_id, "commitment", "action", values=document)
    return _to_report(report_id, _anchor="commitments")


@report_pages.get("/reports/<int:report_id>/commitments/<int:commitment_id>/updates")
@staff_page(*WRITERS)
def new_progress(report_id: int, commitment_id: int):
    desk = _desk(report_id)
    return _page("progress", desk, values={}, commitment=desk.commitment(commitment_id))


@report_pages.post("/reports/<int:report_id>/commitments/<int:commitment_id>/updates")
@staff_page(*WRITERS)
def add_progress(report_id: int, commitment_id: int):
    document = forms.progress_input(request.form)
    try:
        report_progress(get_session(), agency=current_caller().agency, report_id=report_id,
                        commitment_id=commitment_id,
                        data=forms.parsed(ProgressUpdateCreateSchema(), document))
    except AlreadyRecorded:  # the form sent twice: the report shows it, once
        pass
    except ReportRuleBroken as broken:
        return _form_refused(broken, report_id, "progress", "text", values=document,
                             commitment=_desk(report_id).commitment(commitment_id))
    return _to_report(report_id, _anchor="commitments")


@report_pages.get("/reports/<int:report_id>/preview")
@staff_page(*WRITERS)
def preview(report_id: int):
    desk = _desk(report_id)
    return render_template("console/report/preview.html", desk=desk, **desk.public,
                           chart_endpoint="report_pages.preview_chart")


@report_pages.get("/reports/<int:report_id>/preview/charts/<code>.svg")
@staff_page(*WRITERS)
def preview_chart(report_id: int, code: str):
    desk = _desk(report_id)
    return result_chart_svg(desk.public["results"], code), 200, svg_headers()


@report_pages.get("/reports/<int:report_id>/publish")
@staff_page(*WRITERS)
def confirm_publish(report_id: int):
    desk = _desk(report_id)
    return _page("publish", desk, forms.problems(desk.problems, "we_did", forms.PUBLISH_ANCHORS))


@report_pages.post("/reports/<int:report_id>/publish")
@staff_page(*WRITERS)
def publish_report(report_id: int):
    try:
        publish(get_session(), bus(), current_actor(), report_id=report_id)
    except ReportRuleBroken as broken:
        return _form_refused(broken, report_id, "publish", "we_did")
    return _to_report(report_id, published=1)


@report_pages.get("/reports/overdue")
@staff_page(*WRITERS)
def overdue():
    desk = agency_desk(get_session(), agency=current_caller().agency, now=utcnow(),
                       overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])
    return render_template("console/report/overdue.html", desk=desk)
