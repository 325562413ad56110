"""The fieldwork monitor's tables and charts: completes per day against target, each quota
cell's fill against its target, and response rates by channel and by group.

Every chart is drawn from the same rows as the table beside it, rendered server-side by pygal
as SVG with no script in it; groups come in their natural order (shared/profile.py: age bands
youngest first, deprivation deciles 1 to 10) and by their names, never their codes. A chart
never relies on colour alone: each bar carries its figure in words, and the target is a
dashed line or a bar labelled "target".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.surveys.fieldwork import monitor
from services.surveys.models import Response, Survey
from services.surveys.population import area_names
from services.surveys.queries import sponsored_survey
from shared.charts import (
    ROOM_FOR_VALUES,
    beside_the_bar,
    chart_config,
    pygal,
    render_svg,
    unless_zero,
    whole_numbers,
)
from shared.errors import NotFound
from shared.profile import CATEGORIES, PROFILE_DIMENSIONS, category_label, dimension_label
from shared.statuses import SurveyStatus

CHANNEL_NAMES = {"email": "Email", "sms": "Text message (SMS)"}
# About the width of half the page, so a chart's words are read at their own size.
CHART_WIDTH = 480


@dataclass
class Table:
    """One chart's figures: its table's caption, column headings and rows of words."""

    name: str
    caption: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    description: str = ""  # what the chart shows, for its text alternative


@dataclass
class Fieldwork:
    survey: Survey
    figures: dict
    tables: list[Table]
    actions: dict[str, bool] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _percent(rate: float | None) -> str:
    return f"{rate * 100:.0f}%" if rate is not None else "–"


def completes_by_day(session: Session, survey: Survey) -> list[tuple[date, int]]:
    """Completed responses per day, oldest first (days without any are left out)."""
    day = func.date(Response.submitted_at)
    rows = session.execute(select(day, func.count()).where(Response.survey_id == survey.id)
                           .group_by(day).order_by(day)).all()
    return [(date.fromisoformat(str(value)[:10]), count) for value, count in rows]


def every_day(survey: Survey, counts: list[tuple[date, int]]) -> list[tuple[date, int]]:
    """The counts of every day of fieldwork so far, days without completes as 0: from the
    launch to today (or the day it closed, or the window's end, when earlier)."""
    if not counts:
        return []
    by_day = dict(counts)
    first = min(survey.launched_at.date() if survey.launched_at else counts[0][0], counts[0][0])
    ends = [date.today(), counts[-1][0] if survey.closed_at is None else survey.closed_at.date()]
    last = max(counts[-1][0], min(ends + ([survey.fieldwork_end] if survey.fieldwork_end
                                          else [])))
    return [(first + timedelta(days=n), by_day.get(first + timedelta(days=n), 0))
            for n in range((last - first).days + 1)]


def target_of(survey: Survey) -> int | None:
    """The completes aimed for: the survey's target, else its quota cells' targets added."""
    return survey.target_completes or (sum(q["target"] for q in survey.quotas) or None)


def cell_name(cell: dict, wards: dict[str, str]) -> str:
    return ", ".join(f"{dimension_label(d)}: {category_label(d, str(v), wards)}"
                     for d, v in cell.items())


def in_natural_order(dimension: str, groups: dict, wards: dict[str, str]) -> list[str]:
    """The dimension's groups in their own order; wards by name; unknowns last."""
    order = CATEGORIES.get(dimension)
    if order:
        known = [c for c in order if c in groups]
        return known + sorted(c for c in groups if c not in order)
    return sorted(groups, key=lambda c: (c == "None", category_label(dimension, c, wards)))


def fieldwork_tables(session: Session, survey: Survey, figures: dict) -> list[Table]:
    wards = area_names(session)
    target = target_of(survey)
    daily = Table("completes", "Completed responses per day", (
        "Day", "Completed that day", "Completed so far", "Target"),
        description=f"Line chart of completed responses so far, day by day"
        f"{f', against the target of {target}' if target else ''}.")
    total = 0
    for day, count in every_day(survey, completes_by_day(session, survey)):
        total += count
        daily.rows.append((day.strftime("%-d %b"), count, total, target or "–"))
    tables = [daily]
    if figures["cells"]:
        cells = Table("cells", "Quota cells: completes against target", (
            "Cell", "Target", "Invited", "Completed", "Fill"),
            description="Bar chart of each quota cell's completed responses beside its target.")
        cells.rows = [(cell_name(c["cell"], wards), c["target"], c["invited"], c["completed"],
                       f"{c['fill'] * 100:.0f}%" + (" (full)" if c["full"] else ""))
                      for c in figures["cells"]]
        tables.append(cells)
    channels = Table("channels", "Response rate by channel", (
        "Channel", "Invited", "Completed", "Response rate"),
        description="Bar chart of the response rate of each channel.")
    channels.rows = [(CHANNEL_NAMES.get(name, name), row["invited"], row["completed"],
                      _percent(row["rate"]))
                     for name, row in sorted(figures["by_channel"].items())]
    tables.append(channels)
    for dimension in PROFILE_DIMENSIONS:
        groups = figures["by_group"].get(dimension)
        if not groups or list(groups) == ["None"]:
            continue
        label = dimension_label(dimension)
        table = Table(f"group-{dimension}", f"Response rate by {label.lower()}", (
            label, "Invited", "Completed", "Response rate"),
            description=f"Bar chart of the response rate of each {label.lower()} group.")
        table.rows = [(category_label(dimension, c, wards) if c != "None" else "Not known",
                       groups[c]["invited"], groups[c]["completed"],
                       _percent(groups[c]["rate"]))
                      for c in in_natural_order(dimension, groups, wards)]
        tables.append(table)
    return tables


def fieldwork_view(session: Session, *, agency: str, survey_id: int,
                   role: str = "") -> Fieldwork:
    """The monitor of a survey the agency sponsors, with the tables its charts are drawn from
    and which of top-up, reminders and close this role of this agency may do."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    figures = monitor(session, survey)
    return Fieldwork(survey, figures, fieldwork_tables(session, survey, figures),
                     actions_allowed(survey, agency=agency, role=role))


# -- the charts ----------------------------------------------------------------------------


def _number(text) -> float:
    return float(str(text).rstrip("%").split()[0]) if str(text)[0].isdigit() else 0.0


def _bars(table: Table, height_per_row: int, highest: float, **options):
    """A horizontal bar chart whose rows read top to bottom in the table's order, each value
    written past its bar's end, with room for it past the longest bar. Every bar carries its
    value, so there is no value axis, whose guides would cross the values."""
    chart = pygal.HorizontalBar(**chart_config(table.caption, 140 + height_per_row * len(
        table.rows), width=CHART_WIDTH, show_x_guides=False, show_y_guides=False,
        show_x_labels=False), print_values_position="top",
        range=(0, ROOM_FOR_VALUES * highest or 1), **options)
    chart.x_labels = [row[0] for row in reversed(table.rows)]  # pygal draws from the bottom
    return chart


def _beside(formatter):
    return unless_zero(lambda value: beside_the_bar(formatter(value)))


def render_chart(table: Table) -> str:
    """The table as an SVG chart (a string), with no script and a title of its own."""
    rows = list(reversed(table.rows))
    if table.name == "completes":
        highest = max([row[2] for row in table.rows] + [
            row[3] for row in table.rows if row[3] != "–"])
        # Room above the highest figure, so the target's line is not the chart's top edge.
        axis = whole_numbers(highest + max(1, highest // 8))
        chart = pygal.Line(**chart_config(table.caption, 360, width=CHART_WIDTH,
                                          show_y_guides=False), dots_size=4,
                           include_x_axis=True, range=(0, axis[-1]), y_labels=axis,
                           show_minor_x_labels=False,
                           x_labels_major_every=max(1, len(table.rows) // 6))
        chart.x_labels = [row[0] for row in table.rows]
        chart.add("Completed so far", [row[2] for row in table.rows],
                  formatter=lambda v: f"{v:g}")
        if table.rows and table.rows[0][3] != "–":
            # One day draws no line: the target is then its dot, with its figure.
            one_day = len(table.rows) == 1
            chart.add("Target (dashed)", [row[3] for row in table.rows], show_dots=one_day,
                      print_values=one_day, formatter=lambda v: f"target {v:g}",
                      stroke_style={"width": 3, "dasharray": "8, 6"})
    elif table.name == "cells":
        highest = max([row[1] for row in rows] + [row[3] for row in rows])
        chart = _bars(table, 64, highest)
        chart.add("Completed", [row[3] for row in rows],
                  formatter=_beside(lambda v: f"{v:g} completed"))
        chart.add("Target", [row[1] for row in rows],
                  formatter=_beside(lambda v: f"target {v:g}"))
    else:
        chart = _bars(table, 40, 100, show_legend=False)
        chart.add("Response rate", [_number(row[3]) if row[3] != "–" else None for row in rows],
                  formatter=_beside(lambda v: f"{v:.0f}%"))
    return render_svg(chart)


def fieldwork_chart(session: Session, *, agency: str, survey_id: int, name: str) -> str:
    """One chart of a sponsored survey's monitor, as SVG; NotFound for a chart it has not
    (yet: nothing to draw before the first day of fieldwork)."""
    view = fieldwork_view(session, agency=agency, survey_id=survey_id)
    table = next((t for t in view.tables if t.name == name), None)
    if table is None or not table.rows:  # the page shows no chart of a table with no rows
        raise NotFound("No such chart.")
    return render_chart(table)


def actions_allowed(survey: Survey, *, agency: str, role: str) -> dict[str, bool]:
    """Which of top-up, reminders and close the monitor offers: what the API would allow."""
    writer = role in ("admin", "officer")
    live = survey.status == SurveyStatus.FIELDWORK
    return {"top_up": live and writer and bool(survey.quotas), "remind": live and writer,
            "close": live and writer and survey.lead_agency == agency}
