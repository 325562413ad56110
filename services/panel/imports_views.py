"""Panel managers' CSV import pages: the upload form with the columns documented, the run's
progress (refreshing itself while the worker imports), its bad rows and their download."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from services.panel import import_guide, queries
from services.panel.imports import start_import
from services.panel.uploads import UploadRefused, uploaded_csv
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session
from shared.service import bus

imports_pages = Blueprint("imports_pages", __name__, template_folder="templates")
MANAGERS = ("panel_manager",)  # the API's imports endpoints: panel managers only
RECENT = 10


def _form(problems: list[tuple[str, str]] = (), status: int = 200):
    recent = get_session().scalars(
        queries.imports_of(current_caller().agency).limit(RECENT)).all()
    return render_template(
        "console/imports/upload.html", problems=problems, recent=recent, guide=import_guide,
        columns=import_guide.columns(current_app.config["PROFILE_EXTRA_ATTRIBUTES"])), status


@imports_pages.get("/panel/imports")
@staff_page(*MANAGERS)
def imports():
    return _form()


@imports_pages.post("/panel/imports")
@staff_page(*MANAGERS)
def upload():
    try:
        filename, text = uploaded_csv(request.files.get("file"))
    except UploadRefused as refused:
        return _form([("file", str(refused))], status=400)
    run = start_import(get_session(), bus(), agency=current_caller().agency,
                       filename=filename, body=text)
    return redirect(url_for("imports_pages.status", import_id=run.id), code=303)


def _run(import_id: int):
    return queries.agency_import(get_session(), agency=current_caller().agency,
                                 import_id=import_id)


@imports_pages.get("/panel/imports/<int:import_id>")
@staff_page(*MANAGERS)
def status(import_id: int):
    run = _run(import_id)
    return render_template("console/imports/status.html", run=run,
                           progress=import_guide.progress(run),
                           shown=import_guide.SHOWN_PROBLEMS,
                           refresh=request.args.get("refresh") != "off")


def _csv(text: str, filename: str):
    return current_app.response_class(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@imports_pages.get("/panel/imports/<int:import_id>/problems.csv")
@staff_page(*MANAGERS)
def problems(import_id: int):
    return _csv(import_guide.problems_csv(_run(import_id)), f"import-{import_id}-problems.csv")


@imports_pages.get("/panel/imports/template.csv")
@staff_page(*MANAGERS)
def template():
    return _csv(import_guide.template_csv(current_app.config["PROFILE_EXTRA_ATTRIBUTES"]),
                "panel-import-template.csv")
