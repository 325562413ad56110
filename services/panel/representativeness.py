"""How far the panel (or a survey's respondents) looks like the place: shares, ratios, gaps."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from shared.disclosure import suppress_table
from shared.profile import CATEGORIES, PROFILE_DIMENSIONS, category_label, dimension_label


def report(margins: Mapping[str, Mapping[str, Mapping[str, float]]],
           counts: Mapping[str, Mapping[str, Mapping[str, int]]],
           threshold: float = 0.8) -> dict:
    """Per dimension and area (plus "all" areas): population share, panel share, ratio, and the
    gap in members, i.e. how many more members the group needs to reach its share.

    `counts` is {area: {dimension: {category: members}}} over the areas with targets.
    Groups with a ratio below the threshold are listed as under-represented, biggest gap first.
    """
    rows = []
    scopes = {area: [area] for area in sorted(margins)}
    scopes["all"] = sorted(margins)
    for scope, areas in scopes.items():
        dims = sorted({d for a in areas for d in margins[a]})
        for dim in dims:
            population: dict[str, float] = {}
            members: dict[str, int] = {}
            for area in areas:
                for category, value in margins[area].get(dim, {}).items():
                    population[category] = population.get(category, 0.0) + value
                for category, value in counts.get(area, {}).get(dim, {}).items():
                    members[category] = members.get(category, 0) + value
            pop_total = sum(population.values())
            panel_total = sum(members.get(c, 0) for c in population)
            for category in sorted(population):
                pop_share = population[category] / pop_total if pop_total else 0.0
                panel_share = members.get(category, 0) / panel_total if panel_total else 0.0
                ratio = panel_share / pop_share if pop_share else 0.0
                rows.append({
                    "area": scope, "dimension": dim, "category": category,
                    "population": round(population[category], 1),
                    "members": members.get(category, 0),
                    "population_share": round(pop_share, 4),
                    "panel_share": round(panel_share, 4),
                    "ratio": round(ratio, 3),
                    "gap_members": max(0, round(pop_share * panel_total)
                                       - members.get(category, 0)),
                    "under_represented": pop_share > 0 and ratio < threshold,
                })
    under = sorted((r for r in rows if r["under_represented"]),
                   key=lambda r: (-r["gap_members"], r["ratio"], r["area"], r["dimension"]))
    return {"threshold": threshold, "rows": rows, "under_represented": under}


def disclosed_report(result: dict, small_cell_threshold: int) -> dict:
    """A report on a few people (a survey's respondents) as it may be shown to an agency.

    Per dimension, members by category (rows) and area (columns), with the "all" rows as
    row totals and each area's total as a column total, go through the one small-cell
    rule (`shared.disclosure`). A hidden count hides its share, ratio, gap and flag; a
    hidden area total hides every share of that area, since a share and its count would
    give the total away. Hidden values are None and the row says `suppressed`.
    """
    rows = [dict(r) for r in result["rows"]]
    for dimension in dict.fromkeys(r["dimension"] for r in rows):
        group = [r for r in rows if r["dimension"] == dimension]
        categories = list(dict.fromkeys(r["category"] for r in group))
        areas = list(dict.fromkeys(r["area"] for r in group if r["area"] != "all"))
        by = {(r["area"], r["category"]): r for r in group}
        counts = np.array([[by[(a, c)]["members"] if (a, c) in by else 0 for a in areas]
                           for c in categories], dtype=np.int64).reshape(len(categories),
                                                                       len(areas))
        hidden = suppress_table(counts, small_cell_threshold)
        for i, category in enumerate(categories):
            for j, area in enumerate(areas):
                if (area, category) in by:
                    _hide(by[(area, category)], bool(hidden.cells[i, j]),
                          bool(hidden.column_totals[j]))
            if ("all", category) in by:
                _hide(by[("all", category)], bool(hidden.row_totals[i]), hidden.grand_total)
    shown = [r for r in rows if r["under_represented"]]
    under = sorted(shown, key=lambda r: (-r["gap_members"], r["ratio"], r["area"],
                                         r["dimension"]))
    return {"threshold": result["threshold"], "small_cell_threshold": small_cell_threshold,
            "rows": rows, "under_represented": under}


def _hide(row: dict, count_hidden: bool, total_hidden: bool) -> None:
    row["suppressed"] = count_hidden or total_hidden
    if count_hidden:
        row["members"] = None
    if row["suppressed"]:
        row.update(panel_share=None, ratio=None, gap_members=None, under_represented=None)


def dimension_sections(result: dict, area: str, area_names: Mapping[str, str]) -> list[dict]:
    """One area's rows per dimension, dimensions and their groups in natural order
    (shared/profile.py), each row with the words people read."""
    sections = []
    for dimension in (d for d in PROFILE_DIMENSIONS if d in CATEGORIES):
        order = {c: i for i, c in enumerate(CATEGORIES[dimension])}
        rows = sorted((r for r in result["rows"] if r["area"] == area
                       and r["dimension"] == dimension), key=lambda r: order.get(
                           r["category"], len(order)))
        if rows:
            sections.append({"dimension": dimension, "label": dimension_label(dimension),
                             "rows": [{**r, "label": category_label(
                                 dimension, r["category"], area_names)} for r in rows]})
    return sections


def ranked_under(result: dict, area: str) -> list[dict]:
    """The area's under-represented groups, biggest gap first, named in words."""
    return [{**r, "label": f"{dimension_label(r['dimension'])}: "
                           f"{category_label(r['dimension'], r['category'])}"}
            for r in result["under_represented"] if r["area"] == area]
