"""How far the panel (or a survey's respondents) looks like the place: shares, ratios, gaps."""

from __future__ import annotations

from collections.abc import Mapping


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
