"""The analyst's charts, through shared/charts.py: percentages as horizontal bars, one bar per
series in each group, or one bar per group with its 95% interval; each a `Chart` (title and
data: address) for an `<img>` with its data table beside it."""

from __future__ import annotations

from collections.abc import Sequence

from shared.charts import Chart, chart_config, chart_image, percent, pygal

__all__ = ["Chart", "interval_bars", "margins_chart"]


def _config(title: str, height: int, **overrides) -> dict:
    return chart_config(title, height, width=560, range=(0, 100), value_formatter=percent(0),
                        **overrides)


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
    return chart_image(title, chart)


def interval_bars(title: str, labels: Sequence[str], values: Sequence[tuple]) -> Chart:
    """One bar per group with its 95% interval as an error bar; `values` are (percent, low,
    high), None where a cell is hidden."""
    # The interval's line crosses where a value would be written: the axis and the table
    # beside the chart give the figures.
    chart = pygal.HorizontalBar(**_config(title, 110 + 44 * len(labels), print_values=False,
                                          show_legend=False))
    chart.x_labels = list(labels)[::-1]
    chart.add(title, [_with_interval(*v) for v in values][::-1])
    return chart_image(title, chart)
