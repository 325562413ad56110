"""Disclosure control: small cells hidden, and no hidden cell recoverable from the totals."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from services.surveys.disclosure import disclose, exposed_lines, suppression_mask
from services.surveys.tables import crosstab

# Answers (rows) by age band (columns); two cells are under 10.
CRAFTED = np.array([[30, 4, 25, 41],
                    [20, 15, 40, 33],
                    [12, 18, 3, 27]])


def full_table(counts: np.ndarray) -> np.ndarray:
    r, c = counts.shape
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = counts
    full[r, :c] = counts.sum(axis=0)
    full[:r, c] = counts.sum(axis=1)
    full[r, c] = counts.sum()
    return full


def feasible_range(counts: np.ndarray, mask: np.ndarray, entry: tuple[int, int]):
    """What an attacker can learn of one hidden entry from everything published:
    the smallest and largest values consistent with the shown figures and the totals."""
    full = full_table(counts)
    r, c = full.shape
    index = {pos: k for k, pos in enumerate(zip(*np.nonzero(mask), strict=True))}
    equalities, rhs = [], []
    lines = [[(i, j) for j in range(c)] for i in range(r)] + \
            [[(i, j) for i in range(r)] for j in range(c)]
    for line in lines:
        *parts, total = line
        row = np.zeros(len(index))
        constant = 0.0
        for pos in parts:
            if pos in index:
                row[index[pos]] += 1
            else:
                constant += full[pos]
        if total in index:
            row[index[total]] -= 1
        else:
            constant -= full[total]
        equalities.append(row)
        rhs.append(-constant)
    objective = np.zeros(len(index))
    objective[index[entry]] = 1
    low = linprog(objective, A_eq=equalities, b_eq=rhs, bounds=(0, None)).fun
    high = -linprog(-objective, A_eq=equalities, b_eq=rhs, bounds=(0, None)).fun
    return low, high


def test_cells_under_the_threshold_are_suppressed():
    mask = suppression_mask(CRAFTED, threshold=10)
    assert mask[0, 1] and mask[2, 2]  # 4 and 3
    assert not mask[3, 4]  # the grand total stays


def test_secondary_suppression_leaves_no_hidden_cell_recoverable_from_totals():
    mask = suppression_mask(CRAFTED, threshold=10)
    assert exposed_lines(mask) == []
    # More than the two small cells are hidden: their complements too.
    assert mask.sum() >= 4
    for entry in zip(*np.nonzero(mask), strict=True):
        low, high = feasible_range(CRAFTED, mask, entry)
        assert high - low >= 1, f"hidden entry {entry} is pinned to {low}"


def test_without_secondary_suppression_the_small_cell_would_be_recovered():
    # The attack works: hide only the primary cells and their value comes straight back.
    primary = full_table(CRAFTED) < 10
    low, high = feasible_range(CRAFTED, primary, (0, 1))
    assert round(low) == round(high) == 4


def test_a_small_column_is_hidden_with_its_base_and_percentages():
    answers = np.array([0] * 40 + [1] * 30 + [0] * 3 + [1] * 2 + [0] * 25 + [1] * 20)
    groups = np.array([0] * 70 + [1] * 5 + [2] * 45)
    table = crosstab(answers, groups, np.ones(answers.size), rows=["yes", "no"],
                     columns=["16-24", "25-34", "35-44"])
    published = disclose(table, threshold=10)
    by_cell = {(c["row"], c["column"]): c for c in published["cells"]}
    bases = {b["column"]: b for b in published["bases"]}
    assert bases["25-34"]["base"] is None and bases["25-34"]["suppressed"]
    assert by_cell[("yes", "25-34")]["percent"] is None
    assert by_cell[("yes", "25-34")]["count"] is None
    # The base row then needs a second hidden base, or 25-34 = all minus the others.
    assert sum(b["base"] is None for b in published["bases"]) >= 2
    assert bases["all"]["base"] == 120
    assert by_cell[("yes", "all")]["percent"] is not None


def test_the_threshold_is_configurable():
    assert not suppression_mask(CRAFTED, threshold=3).any()
    assert suppression_mask(CRAFTED, threshold=1000).all()
