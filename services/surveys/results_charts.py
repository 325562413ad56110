"""The analyst's charts: pygal drawn on the server to SVG with no script, shown as images.

Each chart is an `<img>` of a data: address (the pages' CSP allows images from data: and no
inline style, which pygal's SVG carries; as an image its style stays inside it and no script
runs), with a title and the values written on it, and its data table beside it on the page.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from shared.charts import chart_config, pygal, render_svg


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: its title (the image's alternative text) and address."""

    title: str
    src: str


def _config(title: str, height: int, width: int = 560) -> dict:
    # shared/charts.py's settings (GOV.UK's colours, no script, values written on the chart)
    # on a 0-100 % scale.
    return {**chart_config(title, height, width), "range": (0, 100),
            "value_formatter": _percent}


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _image(title: str, chart) -> Chart:
    svg = render_svg(chart)
    return Chart(title, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())


def _with_interval(value: float | None, low: float | None, high: float | None):
    if value is None:
        return None
    if low is None or high is None:
        return value
    return {"value": value, "ci": {"low": low, "high": high}}


def margins_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, list]]
                  ) -> Chart:
    """Shares of a dimension's categories, one bar per series in each group (% values)."""
    chart = pygal.HorizontalBar(**_config(title, 120 + 34 * len(labels) * len(series)))
    # pygal draws a horizontal chart's first label at the bottom: reversed, the groups read
    # top down in their natural order.
    chart.x_labels = list(labels)[::-1]
    for name, values in series:
        chart.add(name, list(values)[::-1])
    return _image(title, chart)


def interval_bars(title: str, labels: Sequence[str], values: Sequence[tuple]) -> Chart:
    """One bar per group with its 95% interval as an error bar; `values` are (percent, low,
    high), None where a cell is hidden."""
    # The interval's line crosses where a value would be written: the axis and the table
    # beside the chart give the figures.
    chart = pygal.HorizontalBar(**{**_config(title, 110 + 44 * len(labels)),
                                   "print_values": False}, show_legend=False)
    chart.x_labels = list(labels)[::-1]
    chart.add(title, [_with_interval(*v) for v in values][::-1])
    return _image(title, chart)


def trend_line(title: str, labels: Sequence[str], values: Sequence[tuple]) -> Chart:
    """One answer's weighted share wave by wave as a line, each point with its 95% interval
    as an error bar; `values` are (percent, low, high), None where a cell is hidden (the line
    breaks there rather than guess)."""
    chart = pygal.Line(**{
        **_config(title, 380), "print_values": False, "show_legend": False,
        "allow_interruptions": True, "dots_size": 5, "stroke_style": {"width": 3},
        "x_label_rotation": 20 if max(map(len, labels), default=0) > 14 else 0})
    chart.x_labels = list(labels)
    chart.add(title, [_with_interval(*v) for v in values])
    return _image(title, chart)


def share_bars(title: str, labels: Sequence[str], values: Sequence[float | None]) -> Chart:
    """One bar per answer, its share (%) written on it; None where a count is hidden."""
    chart = pygal.HorizontalBar(**_config(title, 110 + 44 * len(labels)), show_legend=False)
    chart.x_labels = list(labels)[::-1]
    chart.add(title, list(values)[::-1])
    return _image(title, chart)
