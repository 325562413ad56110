"""The panel console's charts (representativeness): horizontal bars through shared/charts.py,
as a data: address for an `<img>` beside the table of the same figures. Every bar carries its
value, so no colour is needed to read it."""

from __future__ import annotations

from shared.charts import chart_config, chart_image, pygal
from shared.charts import percent as percent_format


def _count(value) -> str:
    return "" if value is None else f"{value:,}"


def bar_chart(*, title: str, labels: list[str], series: list[tuple[str, list]],
              percent: bool = True) -> str:
    """A horizontal bar chart as a data: address; `series` are (name, values), None for a
    value not shown (a small cell)."""
    # The axis in whole per cents, each bar's own figure to one decimal place.
    chart = pygal.HorizontalBar(**chart_config(
        title, max(300, 110 + 70 * len(labels)), width=520, legend_at_bottom_columns=2,
        show_y_guides=False, value_formatter=percent_format(0) if percent else _count))
    # A horizontal bar chart draws its first label at the bottom: reversed, it reads top down
    # in the order of the table beside it.
    chart.x_labels = labels[::-1]
    for name, values in series:
        chart.add(name, values[::-1], formatter=percent_format(1) if percent else _count)
    return chart_image(title, chart).src
