"""The officer's console pages in surveys: the surveys an agency sponsors."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.surveys import queries
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

console = Blueprint("console", __name__, template_folder="templates")


@console.get("/surveys")
@staff_page()
def survey_list():
    surveys = get_session().scalars(queries.sponsored_surveys(current_caller().agency)).all()
    return render_template("console/survey_list.html", surveys=surveys)
