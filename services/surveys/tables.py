"""Cross-tables of answers by a group: weighted percentages with 95% intervals, unweighted bases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.disclosure import suppress_table

Z95 = 1.959963984540054  # the normal quantile of 0.975
TOTAL = "all"


@dataclass
class Table:
    """Answer categories (rows) by groups (columns), weighted and not, before disclosure.

    `counts` and `weighted` are rows x columns; `squares` holds each column's sum of
    squared weights, which Kish's effective base needs. Totals over columns are derived.
    """

    rows: list[str]
    columns: list[str]
    counts: np.ndarray
    weighted: np.ndarray
    squares: np.ndarray

    @property
    def bases(self) -> np.ndarray:
        return self.counts.sum(axis=0)

    @property
    def weighted_bases(self) -> np.ndarray:
        return self.weighted.sum(axis=0)

    @property
    def effective_bases(self) -> np.ndarray:
        """Kish's effective sample size of each column: (sum w)^2 / sum w^2."""
        total = self.weighted_bases
        return np.divide(total * total, self.squares, out=np.zeros_like(total),
                         where=self.squares > 0)

    def with_total(self) -> Table:
        """The same table with a last column for everyone, whatever their group."""
        return Table(self.rows, [*self.columns, TOTAL],
                     np.column_stack([self.counts, self.counts.sum(axis=1)]),
                     np.column_stack([self.weighted, self.weighted.sum(axis=1)]),
                     np.append(self.squares, self.squares.sum()))


def crosstab(
    row_codes: np.ndarray,
    column_codes: np.ndarray,
    weights: np.ndarray,
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    frequency: np.ndarray | None = None,
) -> Table:
    """Tabulate answers (row codes) by group (column codes) with their weights.

    Each entry stands for `frequency` respondents sharing that weight (1 when None), so
    the same function serves respondent-level data and counts already grouped in SQL.
    """
    r, c = len(rows), len(columns)
    rc = np.asarray(row_codes, dtype=np.int64)
    cc = np.asarray(column_codes, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    f = np.ones_like(w) if frequency is None else np.asarray(frequency, dtype=float)
    flat = rc * c + cc
    counts = np.bincount(flat, weights=f, minlength=r * c).reshape(r, c)
    weighted = np.bincount(flat, weights=f * w, minlength=r * c).reshape(r, c)
    squares = np.bincount(cc, weights=f * w * w, minlength=c)
    return Table(list(rows), list(columns), np.rint(counts).astype(np.int64), weighted, squares)


def proportion_interval(p: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """The normal-approximation interval p +/- z sqrt(p(1-p)/n), kept within [0, 1].

    With weights, n is Kish's effective base, which widens the interval by the square
    root of the design effect due to weighting (Kish, "Weighting for unequal Pi", 1992).
    """
    se = np.sqrt(np.divide(p * (1 - p), n, out=np.full_like(p, np.nan), where=n > 0))
    return np.clip(p - z * se, 0.0, 1.0), np.clip(p + z * se, 0.0, 1.0)


@dataclass
class Percentages:
    """Column percentages of a table (0-100), with their 95% intervals, weighted and not."""

    weighted: np.ndarray
    weighted_low: np.ndarray
    weighted_high: np.ndarray
    unweighted: np.ndarray
    unweighted_low: np.ndarray
    unweighted_high: np.ndarray


def percentages(table: Table) -> Percentages:
    wb, base, eff = table.weighted_bases, table.bases.astype(float), table.effective_bases
    pw = np.divide(table.weighted, wb, out=np.full(table.weighted.shape, np.nan), where=wb > 0)
    pu = np.divide(table.counts, base, out=np.full(table.weighted.shape, np.nan),
                   where=base > 0)
    wl, wh = proportion_interval(pw, np.broadcast_to(eff, pw.shape))
    ul, uh = proportion_interval(pu, np.broadcast_to(base, pu.shape))
    return Percentages(*(100.0 * x for x in (pw, wl, wh, pu, ul, uh)))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    """The weighted mean of a rating question's points; None without answers."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    return float(values @ weights / total) if values.size and total > 0 else None


def published_table(table: Table, threshold: int) -> dict:
    """A table as published: counts, weighted percentages and intervals, small cells hidden
    by the one rule (`shared.disclosure`) over the table with its margins.

    A hidden count hides the percentages built on it; a hidden base hides its whole
    column. Hidden values are None and listed under `suppressed`.
    """
    mask = suppress_table(table.counts, threshold).full()
    full = table.with_total()
    shares = percentages(full)
    r = len(table.rows)
    base_hidden = mask[r, :]
    hide = mask[:r, :] | base_hidden[np.newaxis, :]

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
