"""Decision owners' console pages in feedback: the reports of their agency's surveys."""

from __future__ import annotations

from flask import Blueprint, render_template

from services.feedback import queries
from services.feedback.models import Report
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

console = Blueprint("console", __name__, template_folder="templates")


@console.get("/reports")
@staff_page("decision_owner", "officer", "admin")
def report_list():
    statement = queries.sponsored_by(current_caller().agency).order_by(Report.id.desc())
    return render_template("console/report_list.html",
                           reports=get_session().scalars(statement).all())
