"""The analyst's console pages in surveys: choosing surveys and dimensions, the weighting
report, tables with intervals, bank question trends and exports, by the analysis API's rules
(services/surveys/analysis_api.py): weights and tables for every role of a sponsoring agency,
respondent-level exports for analysts only."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from services.surveys import analysis_console as use
from services.surveys import results_forms as forms
from services.surveys.analysis_api import ANALYSTS
from services.surveys.counts_console import survey_counts
from services.surveys.export_console import export_choices
from services.surveys.pulls import Puller
from shared.console import staff_page
from shared.db import get_session

results_pages = Blueprint("results", __name__, template_folder="templates")
READERS = ()  # the API's weights, tables and bank results: any role of a sponsor


def _who() -> Puller:
    return Puller(g.caller.agency, g.caller.role, actor=g.staff.email)


def _threshold() -> int:
    return current_app.config["SMALL_CELL_THRESHOLD"]


@results_pages.get("/results")
@staff_page(*READERS)
def choose():
    chooser = use.chooser(get_session(), agency=g.caller.agency)
    return render_template("console/results/choose.html", chooser=chooser,
                           selection=forms.Selection(), analyst=g.caller.role in ANALYSTS)


@results_pages.get("/results/weighting")
@staff_page(*READERS)
def weighting():
    selection = forms.surveys_selection(request.args)
    if selection.problems:
        chooser = use.chooser(get_session(), agency=g.caller.agency)
        return render_template("console/results/choose.html", chooser=chooser,
                               selection=selection, analyst=g.caller.role in ANALYSTS), 400
    report = use.weighting_report(get_session(), who=_who(), survey_ids=selection.survey_ids,
                                  dimensions=selection.dimensions, threshold=_threshold())
    return render_template("console/results/weighting.html", report=report,
                           selection=selection, analyst=g.caller.role in ANALYSTS,
                           **export_choices())


@results_pages.get("/results/table")
@staff_page(*READERS)
def table():
    selection = forms.table_selection(request.args)
    if selection.problems:
        return redirect(url_for("results.weighting", **_as_query(request.args)), code=303)
    report = use.table_report(get_session(), who=_who(), survey_ids=selection.survey_ids,
                              dimensions=selection.dimensions, question=selection.question,
                              by=selection.by, threshold=_threshold())
    return render_template("console/results/table.html", report=report, selection=selection)


def _as_query(args) -> dict:
    return {"survey_ids": args.getlist("survey_ids"), "dimensions": args.getlist("dimensions")}


@results_pages.get("/question-bank/<code>/results")
@staff_page(*READERS)
def bank_trend(code: str):
    report = use.bank_trend(get_session(), who=_who(), code=code, threshold=_threshold())
    return render_template("console/results/trend.html", report=report)


@results_pages.get("/surveys/<int:survey_id>/results")
@staff_page(*READERS)
def survey_results(survey_id: int):
    counts = survey_counts(get_session(), agency=g.caller.agency, survey_id=survey_id,
                           threshold=_threshold())
    return render_template("console/results/survey.html", counts=counts)
