"""The analyst's downloads in surveys' console: an export built by the worker with a progress
bar that refreshes itself (no JavaScript needed) and then its file; the merged dataset as a
file while the analyst waits, when it is small enough; and the staff member's own pulls from
the audit log. Respondent-level data is for analysts only, of their agency's surveys, as in
the analysis API (services/surveys/analysis_api.py)."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from services.surveys import export_console as use
from services.surveys import results_forms as forms
from services.surveys.analysis_api import ANALYSTS
from services.surveys.audit import own_pulls
from services.surveys.pulls import Puller, TooBigToWaitFor, request_export
from shared.console import staff_page
from shared.db import get_session
from shared.service import bus

export_pages = Blueprint("exports", __name__, template_folder="templates")
# An export's page reloads itself this often while the worker builds the file: by the HTTP
# Refresh header, which every browser follows with or without JavaScript (a <meta> refresh
# does the same but fails WCAG 2.2.1 for a page with no way to stop it; this page has one).
REFRESH_SECONDS = 2


def _who() -> Puller:
    return Puller(g.caller.agency, g.caller.role, actor=g.staff.email)


def _desk(selection: forms.Selection, status: int = 200):
    desk = use.export_desk(get_session(), agency=g.caller.agency)
    return render_template("console/results/exports.html", desk=desk,
                           selection=selection), status


def _file(download: use.DownloadFile) -> Response:
    return Response(download.content, content_type=download.content_type, headers={
        "Content-Disposition": f'attachment; filename="{download.filename}"',
        "Cache-Control": "no-store"})


@export_pages.get("/results/exports")
@staff_page(*ANALYSTS)
def exports():
    return _desk(forms.prefilled(request.args))


@export_pages.post("/results/exports")
@staff_page(*ANALYSTS)
def start_export():
    selection = forms.export_selection(request.form)
    if selection.problems:
        return _desk(selection, 400)
    job = request_export(get_session(), bus(), who=_who(), survey_ids=selection.survey_ids,
                         dimensions=selection.dimensions, form=selection.form,
                         fmt=selection.format)
    return redirect(url_for("exports.export_status", export_id=job.id), code=303)


@export_pages.get("/results/exports/<int:export_id>")
@staff_page(*ANALYSTS)
def export_status(export_id: int):
    export = use.export_progress(get_session(), agency=g.caller.agency, export_id=export_id)
    # While it is built the page reloads itself (no JavaScript), unless asked to stop.
    watching = export.running and request.args.get("refresh") != "off"
    return (render_template("console/results/export.html", export=export, watching=watching),
            200, {"Refresh": str(REFRESH_SECONDS)} if watching else {})


@export_pages.get("/results/exports/<int:export_id>/file")
@staff_page(*ANALYSTS)
def export_file(export_id: int):
    return _file(use.export_file(get_session(), who=_who(), export_id=export_id))


@export_pages.get("/results/dataset")
@staff_page(*ANALYSTS)
def dataset():
    selection = forms.dataset_selection(request.args)
    if selection.problems:
        return _desk(selection, 400)
    try:
        return _file(use.dataset_file(get_session(), who=_who(),
                                      survey_ids=selection.survey_ids,
                                      dimensions=selection.dimensions, form=selection.form,
                                      fmt=selection.format))
    except TooBigToWaitFor as refused:
        return render_template("console/results/too_big.html", selection=selection,
                               rows=refused.rows, limit=refused.limit), 413


@export_pages.get("/results/pulls")
@staff_page()
def pulls():
    pulled = own_pulls(get_session(), agency=g.caller.agency, actor=g.staff.email,
                       page=request.args.get("page", 1, type=int))
    return render_template("console/results/pulls.html", found=pulled.found,
                           questions=pulled.questions)
