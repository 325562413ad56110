"""The analyst's charts: pygal drawn on the server to SVG with no script, shown as images.

Each chart is an `<img>` of a data: address (the pages' CSP allows images from data: and no
inline style, which pygal's SVG carries; as an image its style stays inside it and no script
runs), with a title and the values written on it, and its data table beside it on the page.
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

from shared import charts as shared_charts

# pygal adds an importer for its map plugins to sys.meta_path with no find_spec, which makes
# every later import warn; civicpanel uses no map plugin.
sys.meta_path[:] = [finder for finder in sys.meta_path
                    if type(finder).__name__ != "PluginImportFixer"]

# GOV.UK's colours, each at least 3:1 against white.
STYLE = Style(
    background="white", plot_background="white", foreground="#0b0c0c",
    foreground_strong="#0b0c0c", foreground_subtle="#505a5f", opacity="1", opacity_hover="1",
    colors=("#1d70b8", "#0b0c0c", "#00703c", "#d4351c", "#4c2c92", "#f47738", "#5694ca"),
    font_family="Arial, sans-serif", title_font_size=18, label_font_size=14,
    major_label_font_size=14, value_font_size=13, legend_font_size=14, tooltip_font_size=14,
    value_label_font_size=13)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: its title (the image's alternative text) and address."""

    title: str
    src: str


def _config(title: str, height: int, width: int = 560) -> dict:
    return {"title": title, "style": STYLE, "width": width, "height": height,
            "disable_xml_declaration": True, "js": [], "print_values": True,
            "legend_at_bottom": True, "show_y_guides": True, "margin": 16,
            "truncate_label": -1, "truncate_legend": -1, "range": (0, 100),
            "value_formatter": _percent}


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _image(title: str, chart) -> Chart:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
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
    chart = shared_charts.pygal.Line(**{
        **shared_charts.chart_config(title, 380, width=560), "print_values": False,
        "show_legend": False, "range": (0, 100), "value_formatter": _percent,
        "allow_interruptions": True, "dots_size": 5, "stroke_style": {"width": 3},
        "x_label_rotation": 20 if max(map(len, labels), default=0) > 14 else 0})
    chart.x_labels = list(labels)
    chart.add(title, [_with_interval(*v) for v in values])
    svg = shared_charts.render_svg(chart)
    return Chart(title, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
