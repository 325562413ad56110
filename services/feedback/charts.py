"""Charts of the public pages, drawn on the server with pygal (through shared/charts.py): a
report's results and the scoreboard. Each has its title, one series (so no meaning rests on
colour), values written beside the bars and names, never codes; the page shows it as an image of
its own address beside its table, with the figures in its alternative text too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.feedback.findings import as_percent
from shared.charts import (
    ROOM_FOR_VALUES,
    chart_config,
    pygal,
    render_svg,
    values_beside_bars,
)
from shared.errors import NotFound

SCOREBOARD_CHARTS = {
    "published": ("Closed surveys with a report published (%)", "reports_published",
                  "surveys_closed"),
    "on-time": ("Commitments on time (%)", "commitments_on_time", "commitments"),
}


@dataclass(frozen=True)
class Bars:
    """A bar chart's figures: what is drawn, and said in words for the image's alt text."""

    title: str
    bars: list[tuple[str, float]]
    value_format: Callable[[float], str]
    maximum: float | None = None
    left_out: str = ""

    @property
    def description(self) -> str:
        figures = "; ".join(f"{label}: {self.value_format(v)}" for label, v in self.bars)
        return f"Bar chart: {self.title}. {figures}.{self.left_out}"

    def svg(self) -> str:
        # Each bar's value is written past its end: the value axis makes room for it.
        top = max([self.maximum or 0, *(value for _, value in self.bars)])
        config = {**chart_config(self.title, 110 + 44 * len(self.bars), width=560),
                  **values_beside_bars(self.value_format), "show_x_guides": False,
                  "show_y_guides": False, "show_x_labels": False}
        chart = pygal.HorizontalBar(**config, show_legend=False,
                                    range=(0, ROOM_FOR_VALUES * top) if top else None)
        # pygal draws the first label at the bottom: reversed, the chart reads top to bottom
        # in its table's order.
        chart.x_labels = [label for label, _ in reversed(self.bars)]
        chart.add(self.title, [value for _, value in reversed(self.bars)])
        return render_svg(chart)


def _people(value: float) -> str:
    return f"{value:.0f}"


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def result_bars(question: dict) -> Bars | None:
    """One question's published figures (`publishable_question`): weighted percentages when
    the survey was weighted, else numbers of people; hidden figures are left out."""
    counts = question.get("counts") or {}
    if not counts or question.get("base") is None:
        return None
    weighted = question.get("weighted_percent")
    if weighted:
        shares = as_percent({a: s for a, s in weighted.items() if s is not None})
        bars = [(answer, round(shares[answer], 1)) for answer in counts if answer in shares]
        title, value_format = f"{question['text']} (% weighted to the population)", _percent
    else:
        bars = [(answer, count) for answer, count in counts.items() if count is not None]
        title, value_format = f"{question['text']} (number of people)", _people
    if not bars:
        return None
    hidden = len(counts) - len(bars)
    left_out = (f" {hidden} of the answers {'is' if hidden == 1 else 'are'} left out to "
                "protect privacy: see the table." if hidden else "")
    return Bars(title, bars, value_format, 100 if weighted else None, left_out)


def result_charts(results: list[dict]) -> dict[str, Bars]:
    """The chart of each published question with figures to draw, by question code."""
    return {q["code"]: bars for q in results if (bars := result_bars(q))}


def result_chart_svg(results: list[dict], code: str) -> str:
    """The SVG of one question's chart, from the report's published results."""
    bars = result_charts(results).get(code)
    if bars is None:
        raise NotFound("This report has no such chart.")
    return bars.svg()


def scoreboard_charts(rows: list[dict]) -> dict[str, Bars]:
    """Per agency, by name: the share of its closed surveys with a report published, and of
    its commitments kept on time (an agency with none is left out of that chart)."""
    charts = {}
    for name, (title, part, whole) in SCOREBOARD_CHARTS.items():
        bars = [(row["name"], round(100 * row[part] / row[whole])) for row in rows
                if row[whole]]
        if bars:
            charts[name] = Bars(title + ", per agency", bars, _percent, 100)
    return charts


def scoreboard_chart_svg(rows: list[dict], name: str) -> str:
    bars = scoreboard_charts(rows).get(name)
    if bars is None:
        raise NotFound("The scoreboard has no such chart.")
    return bars.svg()
