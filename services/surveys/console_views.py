"""The officer's console pages in surveys: the surveys an agency sponsors."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from services.surveys import builder
from services.surveys.schemas import SURVEY_STATUSES
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

console = Blueprint("console", __name__, template_folder="templates")
WRITERS = ("admin", "officer")
SEARCH_LIMIT = 100


@console.get("/surveys")
@staff_page()
def survey_list():
    caller = current_caller()
    statuses = [s for s in request.args.getlist("status") if s in SURVEY_STATUSES]
    search = request.args.get("search", "").strip()[:SEARCH_LIMIT] or None
    found = builder.survey_list(get_session(), agency=caller.agency, statuses=statuses,
                                search=search)
    return render_template("console/survey_list.html", found=found, statuses=statuses,
                           search=search or "", all_statuses=SURVEY_STATUSES,
                           agency=caller.agency, writer=caller.role in WRITERS)
