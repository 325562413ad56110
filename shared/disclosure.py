"""The one small-cell rule for every published figure: small counts hidden, and kept hidden.

Every count a service publishes (analysts' tables and weighting summaries, public report
results and notes, the representativeness of a survey's respondents) goes through here.

The rule, over a line of counts with its total (1-D) or a table with its margins (2-D):

- Primary suppression: a count from 1 to `threshold` - 1 is hidden.
- Zero is not a small cell: it is shown. A zero says that nobody is in a group, which
  identifies no one, and hiding every zero would hide most of a sparse table. Zeros are
  hidden only when everything is (below), or as a last resort to protect a hidden cell.
- A figure whose whole total is under the threshold is not published at all: every entry,
  zeros included, is hidden, so a handful of people are never shown to share an answer.
- Secondary suppression: no line (a row with its total, a column with its total, the
  totals themselves) may hide exactly one entry, since that entry is its total minus the
  others. The line hides one more entry: the smallest non-zero count first (a zero would
  narrow what the hidden pair can be), a cell before a total, and the grand total last.
  This repeats until no line hides exactly one entry.
- In a table that is not enough: two groups of hidden cells joined by one hidden cell let
  that cell be worked out from the margins. A hidden cell is safe when it lies on a cycle
  of hidden cells (row, column, row, ...); one that joins two groups alone has one more
  cell hidden, chosen the same way, that closes such a cycle.

Hidden entries come back as None.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

Key = TypeVar("Key", bound=Hashable)


def is_small(count: float, threshold: int) -> bool:
    """A count of people too small to publish: 1 to threshold - 1 (never zero)."""
    return 0 < count < threshold


def _preference(values: np.ndarray, totals: set[int]):
    """The order in which to hide one more entry: non-zero, a cell, the smallest."""
    return lambda i: (values[i] == 0, i in totals, values[i], i)


def _suppress(values: np.ndarray, lines: Sequence[Sequence[int]], totals: set[int],
              grand: int, threshold: int, hidden: np.ndarray | None = None) -> np.ndarray:
    """Which of `values` to hide. Each line lists entries whose last is the sum of the rest;
    `totals` are the entries that are some line's total; `grand` the grand total."""
    if is_small(values[grand], threshold):
        return np.ones(values.shape, dtype=bool)
    if hidden is None:
        hidden = (values > 0) & (values < threshold)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[i] for i in line) != 1:
                continue
            candidates = [i for i in line if not hidden[i] and i != grand]
            if not candidates:
                pick = grand
            else:
                pick = min(candidates, key=_preference(values, totals))
            hidden[pick] = True
            changed = True
    return hidden


def suppress_counts(counts: Mapping[Key, int], threshold: int, *, total: int | None = None
                    ) -> dict[Key, int | None]:
    """A line of counts as published: small ones hidden, and never just one hidden.

    `total` is the line's published total (its sum unless given, e.g. the base of a
    question where each person may pick several answers); it counts as an entry of the
    line, so one hidden count is never its total minus the others.
    """
    return suppress_line(counts, threshold, total=total)[0]


def suppress_line(counts: Mapping[Key, int], threshold: int, *, total: int | None = None
                  ) -> tuple[dict[Key, int | None], int | None]:
    """`suppress_counts`, and the total as published too (None when it is hidden)."""
    keys = list(counts)
    line_total = sum(counts.values()) if total is None else total
    values = np.array([*(counts[k] for k in keys), line_total], dtype=float)
    grand = len(keys)
    hidden = _suppress(values, [list(range(len(keys) + 1))], {grand}, grand, threshold)
    shown = {k: None if hidden[i] else counts[k] for i, k in enumerate(keys)}
    return shown, None if hidden[grand] else line_total


@dataclass(frozen=True)
class SuppressedTable:
    """Which entries of a table to hide, with its margins.

    `cells` is rows x columns, `row_totals` one per row, `column_totals` one per column,
    `grand_total` the whole table: True where the entry is hidden.
    """

    cells: np.ndarray
    row_totals: np.ndarray
    column_totals: np.ndarray
    grand_total: bool

    def full(self) -> np.ndarray:
        """The mask as one (rows + 1) x (columns + 1) array, totals last."""
        r, c = self.cells.shape
        mask = np.zeros((r + 1, c + 1), dtype=bool)
        mask[:r, :c] = self.cells
        mask[:r, c] = self.row_totals
        mask[r, :c] = self.column_totals
        mask[r, c] = self.grand_total
        return mask


def suppress_table(counts: np.ndarray, threshold: int) -> SuppressedTable:
    """What to hide of a rows x columns table of counts published with all its margins."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2:
        raise ValueError("A table of counts is rows x columns.")
    r, c = counts.shape
    full = np.zeros((r + 1, c + 1), dtype=float)
    full[:r, :c] = counts
    full[:r, c] = counts.sum(axis=1)
    full[r, :c] = counts.sum(axis=0)
    full[r, c] = counts.sum()
    index = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    lines = [list(index[i, :]) for i in range(r + 1)] + [list(index[:, j])
                                                        for j in range(c + 1)]
    totals = {int(i) for i in index[:, c]} | {int(i) for i in index[r, :]}
    grand = int(index[r, c])
    values = full.ravel()
    hidden = _suppress(values, lines, totals, grand, threshold)
    while not hidden.all():
        bridge = _first_bridge(hidden.reshape(r + 1, c + 1))
        if bridge is None:
            break
        candidates = [int(index[i, j]) for i, j in _cycle_closers(hidden.reshape(r + 1, c + 1),
                                                                   bridge)
                      if int(index[i, j]) != grand]
        if not candidates:
            hidden[:] = True
            break
        hidden[min(candidates, key=_preference(values, totals))] = True
        hidden = _suppress(values, lines, totals, grand, threshold, hidden)
    mask = hidden.reshape(r + 1, c + 1)
    return SuppressedTable(mask[:r, :c].copy(), mask[:r, c].copy(), mask[r, :c].copy(),
                           bool(mask[r, c]))


def _reachable(mask: np.ndarray, start: tuple[str, int], without: tuple[int, int]
               ) -> set[tuple[str, int]]:
    """Rows and columns joined to `start` through hidden entries, leaving one entry out."""
    seen, todo = {start}, [start]
    while todo:
        kind, k = todo.pop()
        line = mask[k, :] if kind == "row" else mask[:, k]
        for other in np.flatnonzero(line):
            entry = (k, int(other)) if kind == "row" else (int(other), k)
            node = ("column", int(other)) if kind == "row" else ("row", int(other))
            if entry != without and node not in seen:
                seen.add(node)
                todo.append(node)
    return seen


def _first_bridge(mask: np.ndarray) -> tuple[int, int] | None:
    """A hidden entry on no cycle of hidden entries: the margins pin its value."""
    for i, j in zip(*np.nonzero(mask), strict=True):
        entry = (int(i), int(j))
        if ("column", entry[1]) not in _reachable(mask, ("row", entry[0]), entry):
            return entry
    return None


def _cycle_closers(mask: np.ndarray, bridge: tuple[int, int]) -> list[tuple[int, int]]:
    """Shown entries that, hidden, put the bridge on a cycle: they join its two sides."""
    side_of_row = _reachable(mask, ("row", bridge[0]), bridge)
    side_of_column = _reachable(mask, ("column", bridge[1]), bridge)
    found = []
    for one, other in ((side_of_row, side_of_column), (side_of_column, side_of_row)):
        rows = [k for kind, k in one if kind == "row"]
        columns = [k for kind, k in other if kind == "column"]
        found += [(i, j) for i in rows for j in columns if not mask[i, j]]
    return found


def exposed_lines(mask: np.ndarray) -> list[str]:
    """Rows or columns of a full mask that hide exactly one entry (recoverable by subtraction)."""
    found = [f"row {i}" for i in range(mask.shape[0]) if mask[i].sum() == 1]
    return found + [f"column {j}" for j in range(mask.shape[1]) if mask[:, j].sum() == 1]
