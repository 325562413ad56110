"""The analyst's charts, through shared/charts.py: percentages as horizontal bars, one bar per
series in each group, or one bar per group with its 95% interval; each a `Chart` (title and
data: address) for an `<img>` with its data table beside it."""

from __future__ import annotations

from collections.abc import Sequence

from shared.charts import Chart, chart_config, chart_image, percent, pygal

__all__ = ["Chart", "interval_bars", "margins_chart", "share_bars", "trend_line"]


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


def trend_line(title: str, labels: Sequence[str], values: Sequence[tuple]) -> Chart:
    """One answer's weighted share wave by wave as a line, each point with its 95% interval
    as an error bar; `values` are (percent, low, high), None where a cell is hidden (the line
    breaks there rather than guess)."""
    chart = pygal.Line(**_config(
        title, 380, print_values=False, show_legend=False, allow_interruptions=True,
        dots_size=5, stroke_style={"width": 3},
        x_label_rotation=20 if max(map(len, labels), default=0) > 14 else 0))
    chart.x_labels = list(labels)
    chart.add(title, [_with_interval(*v) for v in values])
    return chart_image(title, chart)


def share_bars(title: str, labels: Sequence[str], values: Sequence[float | None]) -> Chart:
    """One bar per answer, its share (%) written on it; None where a count is hidden."""
    chart = pygal.HorizontalBar(**_config(title, 110 + 44 * len(labels), show_legend=False))
    chart.x_labels = list(labels)[::-1]
    chart.add(title, list(values)[::-1])
    return chart_image(title, chart)
