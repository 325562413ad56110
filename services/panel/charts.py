"""The panel console's charts: pygal SVG drawn on the server through shared/charts.py (its
style and settings, no script), shown as an image of a data: address (which the CSP allows
for images; an SVG inline would need inline styles) beside the table of the same figures.
Every bar carries its value, so no colour is needed to read it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from shared.charts import ROOM_FOR_VALUES, chart_config, chart_image, pygal, values_beside_bars


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def pounds(value: float | None) -> str:
    return "" if value is None else f"£{value:,.2f}"


def bar_chart(*, title: str, labels: list[str], series: list[tuple[str, list]],
              formatter: Callable[[float | None], str] = percent) -> str:
    """A horizontal bar chart as a data: address; `series` are (name, values), None for a
    value not shown (a small cell)."""
    # Every bar carries its value, so the value axis's own labels (which crowd into each
    # other at this width) are left out; one series needs no legend. Shares are drawn on one
    # scale, with room past 100 % for the value written beside a full bar.
    config = {**chart_config(title, height=max(300, 110 + 70 * len(labels)), width=520),
              "show_x_guides": False, "show_y_guides": False, "show_x_labels": False,
              "legend_at_bottom_columns": 2, **values_beside_bars(formatter),
              "show_legend": len(series) > 1}
    top = 100 if formatter is percent else max((v for _, vs in series for v in vs if v),
                                               default=0)
    if top:
        config["range"] = (0, 1.25 * top if formatter is percent else ROOM_FOR_VALUES * top)
    chart = pygal.HorizontalBar(**config)
    # A horizontal bar chart draws its first label at the bottom: reversed, it reads top down
    # in the order of the table beside it.
    chart.x_labels = labels[::-1]
    for name, values in series:
        chart.add(name, values[::-1])
    return chart_image(title, chart).src


def campaign_charts(report: dict) -> dict[str, str | None]:
    """A campaign's two charts: the share of its recruits in the target group against the
    share among everyone who joined since it began; and what each recruit cost."""
    shares = (report["yield_in_target_group"], report["share_in_target_group_overall"])
    charts: dict[str, str | None] = {"yield": None, "cost": None}
    if any(share is not None for share in shares):
        charts["yield"] = bar_chart(
            title="Share in the target group", labels=[
                "This campaign's recruits", "Everyone who joined since it began"],
            series=[("In the target group", [None if s is None else 100 * s for s in shares])])
    costs = [report["cost_per_recruit"], report["cost_per_target_recruit"]]
    if any(costs):
        charts["cost"] = bar_chart(
            title="Cost per recruit", labels=["Each recruit", "Each recruit in the target group"],
            series=[("Cost", [float(Decimal(c)) if c else None for c in costs])],
            formatter=pounds)
    return charts
