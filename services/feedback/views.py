"""Public "you said, we did" pages: the list of published reports and each report."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from services.feedback.api import published
from services.feedback.disclosure import published_results
from services.feedback.models import Report
from shared.db import get_session

pages = Blueprint("pages", __name__, template_folder="templates")


@pages.get("/you-said-we-did")
def report_list():
    reports = get_session().scalars(published()).all()
    return render_template("report_list.html", reports=reports)


@pages.get("/you-said-we-did/<int:report_id>")
def report_page(report_id: int):
    report = get_session().scalar(
        select(Report).where(Report.id == report_id, Report.status == "published"))
    if report is None:
        return render_template("message_page.html", heading="Page not found",
                               paragraphs=["There is no published report at this address."]), 404
    results = published_results(report.results, current_app.config["SMALL_CELL_THRESHOLD"])
    return render_template("report.html", report=report, results=results,
                           threshold=current_app.config["SMALL_CELL_THRESHOLD"])
