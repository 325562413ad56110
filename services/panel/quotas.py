"""Quota cells of a draw: explicit targets or proportional to population, and who is in which."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np

# Population margins: {area: {dimension: {category: population}}}.
Margins = Mapping[str, Mapping[str, Mapping[str, float]]]


def cell_label(cell: Mapping[str, object]) -> str:
    return ";".join(f"{k}={cell[k]}" for k in sorted(cell))


def largest_remainder(shares: Sequence[float], total: int) -> list[int]:
    """Whole-number targets summing to `total`, in proportion to `shares`."""
    weight = sum(shares)
    if weight <= 0 or total <= 0:
        return [0] * len(shares)
    exact = [total * s / weight for s in shares]
    whole = [math.floor(x) for x in exact]
    left = total - sum(whole)
    for i in sorted(range(len(exact)), key=lambda i: (whole[i] - exact[i], i))[:left]:
        whole[i] += 1
    return whole


def cell_population(margins: Margins, cell: Mapping[str, str]) -> float:
    """The population of a cell, from per-area margins, assuming the dimensions other than
    area are independent within each area (census margins give no joint counts)."""
    areas = [cell["area"]] if "area" in cell else list(margins)
    total = 0.0
    for area in areas:
        dims = margins.get(area, {})
        base = _area_total(dims)
        if base <= 0:
            continue
        value = base
        for dim, category in cell.items():
            if dim == "area":
                continue
            counts = dims.get(dim, {})
            dim_total = sum(counts.values())
            value *= counts.get(str(category), 0.0) / dim_total if dim_total else 0.0
        total += value
    return total


def _area_total(dims: Mapping[str, Mapping[str, float]]) -> float:
    # Each dimension is a full partition of the area; take the age one when present (16+).
    if "age_band" in dims:
        return sum(dims["age_band"].values())
    return max((sum(c.values()) for c in dims.values()), default=0.0)


def proportional_cells(margins: Margins, dimensions: Sequence[str], size: int,
                       areas: Sequence[str] | None = None) -> list[dict]:
    """Quota cells over every combination of the dimensions' categories, sized by population."""
    chosen_areas = list(areas) if areas else sorted(margins)
    categories: dict[str, list[str]] = {}
    for dim in dimensions:
        if dim == "area":
            categories[dim] = chosen_areas
        else:
            categories[dim] = sorted({c for a in chosen_areas
                                      for c in margins.get(a, {}).get(dim, {})})
    cells = [dict(zip(dimensions, combo, strict=True))
             for combo in itertools.product(*(categories[d] for d in dimensions))]
    if "area" not in dimensions and areas:
        populations = [sum(cell_population(margins, {**c, "area": a}) for a in chosen_areas)
                       for c in cells]
    else:
        populations = [cell_population(margins, c) for c in cells]
    targets = largest_remainder(populations, size)
    return [{"cell": c, "target": t} for c, t in zip(cells, targets, strict=True)]


def cell_categories(cells: Sequence[Mapping[str, object]], dims: Sequence[str]
                    ) -> list[list[str]]:
    """For each dimension, the values the cells name: a candidate's code is its index here."""
    return [sorted({str(c[d]) for c in cells if d in c}) for d in dims]


def cells_from_codes(codes: Sequence[np.ndarray], categories: Sequence[Sequence[str]],
                     dims: Sequence[str], cells: Sequence[Mapping[str, object]]) -> np.ndarray:
    """Each candidate's cell index (first match) from per-dimension codes (-1 = a value no
    cell names), or -1 for none."""
    n = len(codes[0]) if codes else 0
    if not dims:
        return np.zeros(n, dtype=np.int32) if cells else np.full(n, -1, dtype=np.int32)
    if all(set(c) == set(dims) for c in cells):
        # One mixed-radix number per candidate, then a table lookup: O(n), not O(n x cells).
        sizes = [len(c) for c in categories]
        table = np.full(int(np.prod(sizes)), -1, dtype=np.int32)
        for index in range(len(cells) - 1, -1, -1):
            key, radix = 0, 1
            for d, size, cats in zip(dims, sizes, categories, strict=True):
                key += cats.index(str(cells[index][d])) * radix
                radix *= size
            table[key] = index
        combined = np.zeros(n, dtype=np.int64)
        missing = np.zeros(n, dtype=bool)
        radix = 1
        for code, size in zip(codes, sizes, strict=True):
            missing |= code < 0
            combined += np.maximum(code, 0).astype(np.int64) * radix
            radix *= size
        result = table[combined]
        result[missing] = -1
        return result
    result = np.full(n, -1, dtype=np.int32)
    for index in range(len(cells) - 1, -1, -1):
        mask = np.ones(n, dtype=bool)
        for d, code, cats in zip(dims, codes, categories, strict=True):
            if d in cells[index]:
                mask &= code == cats.index(str(cells[index][d]))
        result[mask] = index
    return result
