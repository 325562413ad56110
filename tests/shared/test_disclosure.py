"""The one small-cell rule: small counts hidden, zeros shown, no hidden count recoverable from
what is published, over a line with its total and a table with its margins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from shared.config import settings_from_env
from shared.disclosure import (
    exposed_lines,
    suppress_counts,
    suppress_line,
    suppress_table,
)
from tests.scenario import bearer
from tests.surveys.test_analysis import OPTIONS, agency_keys, seed_survey

# Answers (rows) by age band (columns); two cells are under 10, one is zero.
CRAFTED = np.array([[30, 4, 25, 41],
                    [20, 15, 40, 33],
                    [12, 18, 3, 0]])


def full_table(counts: np.ndarray) -> np.ndarray:
    r, c = counts.shape
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = counts
    full[r, :c] = counts.sum(axis=0)
    full[:r, c] = counts.sum(axis=1)
    full[r, c] = counts.sum()
    return full


def feasible_range(full: np.ndarray, mask: np.ndarray, entry: tuple[int, int]):
    """What an attacker can learn of one hidden entry from everything published: the
    smallest and largest values consistent with the shown figures and every total."""
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


def line_range(shown: dict, total: int) -> tuple[int, int]:
    """What a line's total and its shown counts say of one of two or more hidden counts:
    any split of the rest among them is consistent."""
    return 0, total - sum(v for v in shown.values() if v is not None)


def assert_nothing_recoverable(counts: np.ndarray, mask: np.ndarray) -> None:
    assert exposed_lines(mask) == []
    full = full_table(counts)
    for entry in zip(*np.nonzero(mask), strict=True):
        low, high = feasible_range(full, mask, entry)
        assert high - low >= 1, f"hidden entry {entry} = {full[entry]} is pinned to {low}"


# -- a line of counts with its total ----------------------------------------------


def test_a_small_count_is_hidden_with_the_smallest_other_non_zero_count_and_zeros_shown():
    counts = {"Mornings": 30, "Evenings": 4, "Weekends": 0, "Nights": 25}
    shown = suppress_counts(counts, 10)
    assert shown == {"Mornings": 30, "Evenings": None, "Weekends": 0, "Nights": None}
    # From the total (59) and what is shown, Evenings could be anything from 0 to 29.
    assert line_range(shown, 59) == (0, 29)


def test_without_the_second_hidden_count_the_small_one_is_the_total_minus_the_rest():
    counts = {"Mornings": 30, "Evenings": 4, "Weekends": 0, "Nights": 25}
    primary_only = {k: None if 0 < v < 10 else v for k, v in counts.items()}
    assert 59 - sum(v for v in primary_only.values() if v is not None) == 4


def test_a_line_whose_total_is_small_shows_nothing_not_even_its_zeros():
    shown, total = suppress_line({"yes": 7, "no": 0}, 10)
    assert shown == {"yes": None, "no": None} and total is None


def test_a_given_total_counts_as_an_entry_of_the_line():
    # Each person may pick several answers: the base is not the sum, and is published.
    shown, total = suppress_line({"a": 40, "b": 12, "c": 3}, 10, total=48)
    assert shown == {"a": 40, "b": None, "c": None} and total == 48
    shown, total = suppress_line({"a": 4, "b": 0}, 10, total=4)
    assert shown == {"a": None, "b": None} and total is None


def test_zero_and_counts_at_the_threshold_are_shown():
    assert suppress_counts({"a": 0, "b": 10, "c": 25}, 10) == {"a": 0, "b": 10, "c": 25}
    assert suppress_counts({"a": 0, "b": 0}, 10) == {"a": 0, "b": 0}


# -- a table with its margins ----------------------------------------------------


def test_cells_under_the_threshold_are_hidden_and_a_zero_is_not():
    hidden = suppress_table(CRAFTED, 10)
    assert hidden.cells[0, 1] and hidden.cells[2, 2]  # 4 and 3
    assert not hidden.cells[2, 3]  # 0
    assert not hidden.grand_total


def test_no_hidden_cell_of_a_crafted_table_is_recoverable_from_its_margins():
    mask = suppress_table(CRAFTED, 10).full()
    assert mask.sum() >= 4  # the two small cells and their complements
    assert_nothing_recoverable(CRAFTED, mask)


def test_without_secondary_suppression_the_small_cell_would_be_recovered():
    primary = (full_table(CRAFTED) > 0) & (full_table(CRAFTED) < 10)
    low, high = feasible_range(full_table(CRAFTED), primary, (0, 1))
    assert round(low) == round(high) == 4


def test_a_small_column_total_is_hidden_and_protected_in_the_row_of_totals():
    # The 25-34 column has 5 people in all: its base is small, its cells too.
    counts = np.array([[40, 3, 25],
                       [30, 2, 20]])
    hidden = suppress_table(counts, 10)
    assert hidden.column_totals[1] and hidden.cells[:, 1].all()
    # The row of column totals then hides a second base, or 5 = 120 - 70 - 45.
    assert hidden.column_totals.sum() >= 2
    assert not hidden.grand_total
    assert_nothing_recoverable(counts, hidden.full())


def test_a_small_row_total_is_protected_down_the_column_of_row_totals():
    counts = np.array([[2, 3, 1],
                       [30, 12, 25],
                       [18, 40, 22]])
    hidden = suppress_table(counts, 10)
    assert hidden.row_totals[0] and hidden.row_totals.sum() >= 2
    assert_nothing_recoverable(counts, hidden.full())


def test_a_table_whose_grand_total_is_small_shows_nothing():
    hidden = suppress_table(np.array([[3, 0], [2, 1]]), 10)
    assert hidden.full().all()


@pytest.mark.parametrize("seed", range(40))
def test_random_sparse_tables_leave_no_hidden_cell_recoverable(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 6, size=2))
    counts = rng.choice([0, 1, 2, 4, 7, 9, 12, 20, 35, 60], size=shape,
                        p=[0.1, 0.05, 0.05, 0.1, 0.1, 0.05, 0.15, 0.15, 0.15, 0.1])
    mask = suppress_table(counts, 10).full()
    full = full_table(counts)
    assert mask[(full > 0) & (full < 10)].all()
    if not mask.all():
        assert_nothing_recoverable(counts, mask)


# -- the threshold is a setting ----------------------------------------------------


def test_the_threshold_comes_from_the_settings_and_every_service_uses_it(surveys_app,
                                                                          monkeypatch):
    for service in ("panel", "surveys", "feedback"):
        assert settings_from_env(service, {"SMALL_CELL_THRESHOLD": "5"})[
            "SMALL_CELL_THRESHOLD"] == 5
        assert settings_from_env(service, {})["SMALL_CELL_THRESHOLD"] == 10
    assert suppress_counts({"a": 4, "b": 30}, 3) == {"a": 4, "b": 30}
    assert suppress_table(CRAFTED, 1000).full().all()
    keys = agency_keys(surveys_app)
    # 12 respondents, 4 of whom chose the first option.
    survey_id = seed_survey(surveys_app, respondents=12)
    client = surveys_app.test_client()

    def first_option_count() -> int | None:
        table = client.get(f"/api/v1/analysis/tables?survey_ids={survey_id}&question=priority",
                           headers=bearer(keys["council"]["officer"])).json["table"]
        return next(c["count"] for c in table["cells"]
                    if (c["row"], c["column"]) == (OPTIONS[0], "all"))

    assert first_option_count() is None  # 4 people, under the default of 10
    monkeypatch.setitem(surveys_app.config, "SMALL_CELL_THRESHOLD", 3)
    assert first_option_count() == 4
