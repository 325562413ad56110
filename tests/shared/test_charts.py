"""Every chart writes its figures in text a person can read: at least WCAG's 4.5:1 against
the white they sit on, whatever the bar's colour (pygal's own choice, black on GOV.UK blue,
is 4.1:1; its white on a dark series vanishes on the white beside a short bar)."""

from __future__ import annotations

import base64
import re

from services.feedback.charts import Bars
from services.panel.charts import bar_chart
from services.surveys.monitor_charts import Table, render_chart


def contrast_on_white(colour: str) -> float:
    named = {"black": "#000000", "white": "#ffffff"}
    hex_colour = named.get(colour, colour).lstrip("#")
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def value_colours(svg: str) -> list[str]:
    """The fill of each series' written values, from the chart's own style sheet."""
    return re.findall(r"\.text-overlay \.color-\d+ text\{fill:([^;}]+)\}", svg)


def monitor_charts() -> list[str]:
    return [render_chart(table) for table in (
        Table("completes", "Completed responses per day", ("Day", "New", "So far", "Target"),
              [("1 December", 3, 3, 40)]),
        Table("cells", "Quota cells", ("Cell", "Target", "Invited", "Completed"),
              [("Women aged 25 to 34", 40, 50, 12), ("Men aged 25 to 34", 40, 50, 30)]),
        Table("channels", "Response rate by channel", ("Channel", "Invited", "Completed", "Rate"),
              [("Email", 40, 3, "7.5%"), ("Text message (SMS)", 40, 30, "75.0%")]),
    )]


def test_every_chart_writes_its_figures_in_text_that_reads_on_white():
    feedback = Bars("Feeling safe (%)", [("Very safe", 3.0), ("Not safe", 97.0)],
                    lambda value: f"{value:.0f}%", 100).svg()
    panel = base64.b64decode(bar_chart(
        title="Panel against the census", labels=["Riverside Central", "Northgate"],
        series=[("Panel", [40.0, 60.0]), ("Census", [50.0, 50.0])]).split(",", 1)[1]).decode()
    charts = [*monitor_charts(), feedback, panel]
    for svg in charts:
        colours = value_colours(svg)
        assert colours, "a chart without written values"
        assert all(contrast_on_white(colour) >= 4.5 for colour in colours), colours
    completes, cells, channels = charts[:3]
    assert "target 40" in completes and "12 completed" in cells and "8%" in channels
