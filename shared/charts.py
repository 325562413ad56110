"""Every chart of civicpanel's pages: pygal, rendered server-side to SVG with no script in it,
in one style and one configuration, reaching the page in one of two ways this module gives.

Import pygal from here: pygal adds an importer for its map plugins to `sys.meta_path` (which
civicpanel does not use) that has no `find_spec`, so every later import would warn; it is
taken out again here. A page's CSP allows no inline style, which pygal's SVG holds, so a chart
is always an `<img>`: either of a data: address made here (`chart_image`, a `Chart` with the
title for its alternative text), or of the chart's own SVG address, answered with
`svg_headers()`. Either way nothing in it runs, and its data table is beside it on the page.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass

import pygal
from pygal.style import Style

sys.meta_path[:] = [finder for finder in sys.meta_path
                    if type(finder).__name__ != "PluginImportFixer"]

TEXT_COLOUR = "#0b0c0c"  # GOV.UK's text colour: 19.6:1 on white
# GOV.UK's colours, each at least 3:1 against white (WCAG's contrast for graphics), the first
# two far apart in lightness so two series differ in greyscale too.
COLOURS = ("#1d70b8", "#0b0c0c", "#00703c", "#d4351c", "#4c2c92", "#912b88", "#5694ca")
# Every value is written in the text colour on white, beside its bar (`beside_the_bar`) or
# above its dot, never on a bar: pygal's own choice, black on GOV.UK blue, is 4.1:1, under
# the 4.5:1 that text needs, and white on a short bar spills onto the white around it.
STYLE = Style(
    background="white", plot_background="white", foreground=TEXT_COLOUR,
    foreground_strong=TEXT_COLOUR, foreground_subtle="#505a5f", opacity="1", opacity_hover="1",
    colors=COLOURS, value_colors=(TEXT_COLOUR,) * len(COLOURS),
    font_family="Arial, sans-serif", title_font_size=20, label_font_size=14,
    major_label_font_size=14, value_font_size=14, legend_font_size=14, tooltip_font_size=14,
    value_label_font_size=14)
NO_BREAK_SPACE = "\u00a0"
# Room past the longest bar for its value, as a share of that bar.
ROOM_FOR_VALUES = 1.45

# The Content-Security-Policy of an SVG chart's own address: shown as an image it runs no
# script whatever it holds, and its own styles are all it may load.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SVG_TYPE = "image/svg+xml; charset=utf-8"


def chart_config(title: str, height: int, width: int = 720, **overrides) -> dict:
    """pygal's settings for a chart: a title (the SVG's <title>), no script, no XML
    declaration, each value written on the chart so colour is never the only cue; `overrides`
    change or add any setting."""
    return {"title": title, "style": STYLE, "width": width, "height": height,
            "disable_xml_declaration": True, "js": [], "print_values": True,
            "legend_at_bottom": True, "show_y_guides": True, "margin": 16,
            "truncate_label": -1, "truncate_legend": -1, **overrides}


def beside_the_bar(text: str) -> str:
    """A bar's value with leading no-break spaces about as wide as itself (one is about half a
    digit): pygal centres the value on the bar's end, so it then starts just past it."""
    return NO_BREAK_SPACE * (2 * len(text)) + text if text else text


def values_beside_bars(formatter) -> dict:
    """The settings of a horizontal bar chart that write each value past its bar's end."""
    return {"print_values_position": "top",
            "value_formatter": lambda value: beside_the_bar(formatter(value))}


def percent(decimals: int = 0):
    """A value formatter writing a percentage, and nothing for a value not shown (None)."""
    return lambda value: "" if value is None else f"{value:.{decimals}f}%"


def unless_zero(formatter):
    """`formatter`, writing nothing for zero or None: a zero's bar has no length, so its figure
    would sit on the axis's labels (the table beside the chart has every figure)."""
    return lambda value: formatter(value) if value else ""


def whole_numbers(highest: float, ticks: int = 8) -> list[int]:
    """An axis of counts in whole steps (pygal would mark 0.2, 0.4, … under a count of 2)."""
    step = max(1, -(-int(highest) // ticks))
    return list(range(0, int(highest) + step, step))


_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def render_svg(chart) -> str:
    """The chart as an SVG string with no script at all: pygal writes its config as a script
    even when told to load none (`js=[]`), and nothing on a chart needs one."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: an `<img>` whose alternative text is `title` and whose
    address is `src`, the SVG itself as a data: address (the pages' CSP allows images from
    data:; as an image its styles stay inside it and nothing in it runs)."""

    title: str
    src: str


def data_address(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def chart_image(title: str, chart) -> Chart:
    """The pygal chart, rendered with no script, ready for a page's `<img>`."""
    return Chart(title, data_address(render_svg(chart)))


def svg_headers() -> dict[str, str]:
    return {"Content-Type": SVG_TYPE, "Content-Security-Policy": CHART_POLICY,
            "Cache-Control": "no-store"}


__all__ = ["pygal", "STYLE", "Chart", "ROOM_FOR_VALUES", "beside_the_bar", "chart_config",
           "chart_image", "data_address", "percent", "render_svg", "svg_headers", "unless_zero",
           "values_beside_bars", "whole_numbers", "CHART_POLICY"]
