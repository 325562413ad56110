"""Population targets in the console: the census margins held, area by area with the
dimensions they cover, and a new file uploaded, refused with every problem listed."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from services.panel.targets import TargetsInvalid, coverage, import_targets, target_columns
from services.panel.uploads import UploadRefused, uploaded_csv
from shared.console import staff_page
from shared.db import get_session
from shared.profile import category_label, dimension_label
from shared.service import bus

targets_pages = Blueprint("targets_pages", __name__, template_folder="templates")
WRITERS = ("panel_manager", "admin")  # the API's POST /population-targets


def _page(problems=(), file_problems=(), status=200):
    return render_template(
        "console/targets/targets.html", areas=coverage(get_session()), problems=problems,
        file_problems=file_problems, columns=target_columns(), dimension_label=dimension_label,
        category_label=category_label, stored=request.args.get("stored")), status


@targets_pages.get("/panel/targets")
@staff_page(*WRITERS)
def targets():
    return _page()


@targets_pages.post("/panel/targets")
@staff_page(*WRITERS)
def upload():
    try:
        _, text = uploaded_csv(request.files.get("file"))
        stored = import_targets(get_session(), bus(), body=text)
    except UploadRefused as refused:
        return _page([("file", str(refused))], status=400)
    except TargetsInvalid as invalid:
        return _page([("file", f"The file has {len(invalid.problems)} problems: correct "
                               "them and upload it again")], invalid.problems, 400)
    return redirect(url_for("targets_pages.targets", stored=stored["targets"]), code=303)
