"""The themes page's chart: each theme's share of the answers as a bar (weighted when the
survey is), drawn by pygal into an image the page shows beside the table of the same
figures."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from services.surveys.results_charts import Chart
from shared.charts import chart_config, pygal, render_svg


def shares_chart(question: str, labels: Sequence[str], shares: Sequence[float],
                 weighted: bool) -> Chart:
    title = f"Share of answers by theme{' (weighted)' if weighted else ''}: {question}"
    config = chart_config(title, height=140 + 48 * len(labels), width=640)
    chart = pygal.HorizontalBar(**config, show_legend=False, range=(0, 100),
                                value_formatter=lambda v: "" if v is None else f"{v:.0f}%")
    # pygal draws a horizontal bar chart's first bar at the bottom: the largest goes on top.
    chart.x_labels = list(reversed(labels))
    chart.add("Share", [round(100 * s, 1) for s in reversed(shares)])
    svg = render_svg(chart)
    return Chart(title, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
