"""Charts for every service's pages: pygal, rendered server-side to SVG with no script in it.

Import pygal from here: pygal adds an importer for its map plugins to `sys.meta_path` (which
civicpanel does not use) that has no `find_spec`, so every later import would warn; it is
taken out again here. Each chart is shown as an `<img>` of its own SVG address (the page's CSP
allows no inline style, which pygal's SVG holds), with its data table beside it.
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

# GOV.UK's colours, dark enough on white for text and lines (WCAG's 3:1 for graphics).
STYLE = Style(
    background="white", plot_background="white", foreground="#0b0c0c",
    foreground_strong="#0b0c0c", foreground_subtle="#505a5f", opacity="1", opacity_hover="1",
    colors=("#1d70b8", "#0b0c0c", "#00703c", "#d4351c"),
    font_family="Arial, sans-serif", title_font_size=20, label_font_size=14,
    major_label_font_size=14, value_font_size=14, legend_font_size=14, tooltip_font_size=14,
    value_label_font_size=14)

# The Content-Security-Policy of an SVG chart's own address: shown as an image it runs no
# script whatever it holds, and its own styles are all it may load.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SVG_TYPE = "image/svg+xml; charset=utf-8"


def chart_config(title: str, height: int, width: int = 720) -> dict:
    """pygal's settings for a console chart: a title (the SVG's <title>), no script, no XML
    declaration, each value written on the chart so colour is never the only cue."""
    return {"title": title, "style": STYLE, "width": width, "height": height,
            "disable_xml_declaration": True, "js": [], "print_values": True,
            "legend_at_bottom": True, "show_y_guides": True, "margin": 16,
            "truncate_label": -1, "truncate_legend": -1}


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


__all__ = ["pygal", "STYLE", "Chart", "chart_config", "chart_image", "data_address",
           "render_svg", "svg_headers", "CHART_POLICY"]
