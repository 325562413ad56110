"""The representativeness pages of the console: per dimension a chart of the panel's share
(or a closed survey's respondents') against the population's with its table, and the
under-represented groups ranked by gap."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from services.panel.charts import bar_chart
from services.panel.survey_respondents import panel_page, respondents_page
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import get_session

representativeness_pages = Blueprint("representativeness_pages", __name__,
                                     template_folder="templates")
# The API allows analysts and officers too; the panel console is for these two roles.
READERS = ("panel_manager", "admin")


def _chart(section: dict, share: str = "Panel") -> str:
    rows = section["rows"]
    return bar_chart(
        title=f"{section['label']}: {share.lower()} share against population share",
        labels=[r["label"] for r in rows],
        series=[("Population share", [100 * r["population_share"] for r in rows]),
                (f"{share} share", [None if r["panel_share"] is None
                                    else 100 * r["panel_share"] for r in rows])])


def _limits() -> dict:
    config = current_app.config
    return {"area": request.args.get("area") or "all",
            "threshold": config["UNDER_REPRESENTED_RATIO"],
            "small_cell_threshold": config["SMALL_CELL_THRESHOLD"]}


@representativeness_pages.get("/panel/representativeness")
@staff_page(*READERS)
def representativeness():
    page = panel_page(get_session(), agency=current_caller().agency, **_limits())
    return render_template("console/representativeness/report.html", chart=_chart, **page)


@representativeness_pages.get("/panel/representativeness/respondents")
@staff_page(*READERS)
def respondents():
    page = respondents_page(get_session(), agency=current_caller().agency,
                            survey_id=request.args.get("survey", type=int), **_limits())
    return render_template("console/representativeness/respondents.html", chart=_chart, **page)
