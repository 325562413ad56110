"""Disclosure control for published tables: small cells hidden, and hidden cells kept hidden."""

from __future__ import annotations

import numpy as np

from services.surveys.tables import TOTAL, Table, percentages

DEFAULT_THRESHOLD = 10


def suppression_mask(counts: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """Which entries of the table to hide, over the table with its margins.

    `counts` is rows x columns of unweighted counts. The mask is (rows + 1) x (columns + 1):
    the last row holds the column bases, the last column the row totals. Primary
    suppression hides every entry under `threshold`. Secondary suppression then makes
    sure no row or column, totals included, hides exactly one entry, since a lone hidden
    entry is its total minus the others; it hides the smallest entry it can, keeping the
    grand total unless it is itself small.
    """
    counts = np.asarray(counts, dtype=np.int64)
    r, c = counts.shape
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = counts
    full[r, :c] = counts.sum(axis=0)
    full[:r, c] = counts.sum(axis=1)
    full[r, c] = counts.sum()
    mask = full < threshold
    if mask[r, c]:
        return np.ones_like(mask)
    lines = [(i, slice(None)) for i in range(r + 1)] + [(slice(None), j) for j in range(c + 1)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = mask[line]
            if hidden.sum() != 1:
                continue
            values = full[line].astype(float)
            candidates = ~hidden
            # The grand total sits at the end of the last row and the last column.
            if line in ((r, slice(None)), (slice(None), c)):
                candidates[-1] = False
            if not candidates.any():
                mask[line] = True
                changed = True
                continue
            # Prefer inner cells over totals, then the smallest value.
            penalty = np.zeros_like(values)
            penalty[-1] = 0.5
            pick = np.argmin(np.where(candidates, values + penalty, np.inf))
            view = mask[line]
            view[pick] = True
            mask[line] = view
            changed = True
    return mask


def exposed_lines(mask: np.ndarray) -> list[str]:
    """Rows or columns of a mask that hide exactly one entry (recoverable by subtraction)."""
    found = [f"row {i}" for i in range(mask.shape[0]) if mask[i].sum() == 1]
    return found + [f"column {j}" for j in range(mask.shape[1]) if mask[:, j].sum() == 1]


def disclose(table: Table, threshold: int = DEFAULT_THRESHOLD) -> dict:
    """A table as published: counts, weighted percentages and intervals, small cells hidden.

    A hidden count hides the percentages built on it; a hidden base hides its whole
    column. Hidden values are None and listed under `suppressed`.
    """
    mask = suppression_mask(table.counts, threshold)
    full = table.with_total()
    shares = percentages(full)
    r, c = table.counts.shape
    cell_hidden = mask[:r, :]  # rows x (columns + total)
    base_hidden = mask[r, :]
    hide = cell_hidden | base_hidden[np.newaxis, :]

    def value(array: np.ndarray, i: int, j: int, hidden: bool, digits: int) -> float | None:
        v = float(array[i, j])
        return None if hidden or np.isnan(v) else round(v, digits)

    cells = []
    for i, row in enumerate(table.rows):
        for j, column in enumerate(full.columns):
            hidden = bool(hide[i, j])
            cells.append({
                "row": row, "column": column, "suppressed": hidden,
                "count": None if hidden else int(full.counts[i, j]),
                "weighted_count": value(full.weighted, i, j, hidden, 3),
                "percent": value(shares.weighted, i, j, hidden, 2),
                "ci_low": value(shares.weighted_low, i, j, hidden, 2),
                "ci_high": value(shares.weighted_high, i, j, hidden, 2),
                "unweighted_percent": value(shares.unweighted, i, j, hidden, 2),
                "unweighted_ci_low": value(shares.unweighted_low, i, j, hidden, 2),
                "unweighted_ci_high": value(shares.unweighted_high, i, j, hidden, 2),
            })
    bases = [
        {"column": column, "suppressed": bool(base_hidden[j]),
         "base": None if base_hidden[j] else int(full.bases[j]),
         "weighted_base": None if base_hidden[j] else round(float(full.weighted_bases[j]), 3),
         "effective_base": None if base_hidden[j] else round(float(full.effective_bases[j]),
                                                             1)}
        for j, column in enumerate(full.columns)
    ]
    return {"rows": table.rows, "columns": full.columns, "total_column": TOTAL,
            "threshold": threshold, "cells": cells, "bases": bases,
            "suppressed": int(hide.sum() + base_hidden.sum())}
