"""The console's charts: pygal SVG drawn on the server, with no JavaScript, shown as an image
(a data: address, which the CSP allows for images; an SVG inline would need inline styles)
beside the table of the same figures. Every bar carries its value, so no colour is needed
to read it."""

from __future__ import annotations

import base64
import sys

import pygal
from pygal.style import Style

# pygal appends a finder for its map plugins to sys.meta_path; it only has the old
# find_module, so every later failed import warns (an error under our warnings policy).
# No map plugins are used here: take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

# GOV.UK's blue and a dark grey: far apart in lightness, so they differ in greyscale too.
STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#0b0c0c",
              foreground_strong="#0b0c0c", foreground_subtle="#505a5f",
              colors=("#505a5f", "#1d70b8", "#f47738"), font_family="Arial, sans-serif",
              title_font_size=17, label_font_size=15, major_label_font_size=15,
              legend_font_size=15, value_font_size=15, value_colors=("#0b0c0c",))


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def bar_chart(*, title: str, labels: list[str], series: list[tuple[str, list]],
              percent: bool = True) -> str:
    """A horizontal bar chart as a data: address; `series` are (name, values), None for a
    value not shown (a small cell)."""
    chart = pygal.HorizontalBar(
        js=[], disable_xml_declaration=True, title=title, style=STYLE, print_values=True,
        print_values_position="top", legend_at_bottom=True, legend_at_bottom_columns=2,
        width=520, height=max(300, 110 + 70 * len(labels)), truncate_label=-1,
        value_formatter=_percent if percent else (lambda v: "" if v is None else f"{v:,}"),
        show_y_guides=False, margin=16)
    # A horizontal bar chart draws its first label at the bottom: reversed, it reads top down
    # in the order of the table beside it.
    chart.x_labels = labels[::-1]
    for name, values in series:
        chart.add(name, values[::-1])
    svg = chart.render(is_unicode=True).encode()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
