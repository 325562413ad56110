"""The representativeness page of the console: per dimension a chart of panel share against
population share with its table, and the under-represented groups ranked by gap."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from services.panel import queries
from services.panel.charts import bar_chart
from shared.console import staff_page
from shared.db import get_session

representativeness_pages = Blueprint("representativeness_pages", __name__,
                                     template_folder="templates")
# The API allows analysts and officers too; the panel console is for these two roles.
READERS = ("panel_manager", "admin")


def _chart(section: dict) -> str:
    rows = section["rows"]
    return bar_chart(
        title=f"{section['label']}: panel share against population share",
        labels=[r["label"] for r in rows],
        series=[("Population share", [100 * r["population_share"] for r in rows]),
                ("Panel share", [None if r["panel_share"] is None else 100 * r["panel_share"]
                                 for r in rows])])


@representativeness_pages.get("/panel/representativeness")
@staff_page(*READERS)
def representativeness():
    config = current_app.config
    page = queries.console_representativeness(
        get_session(), area=request.args.get("area") or "all",
        threshold=config["UNDER_REPRESENTED_RATIO"],
        small_cell_threshold=config["SMALL_CELL_THRESHOLD"])
    return render_template("console/representativeness/report.html", chart=_chart, **page)
