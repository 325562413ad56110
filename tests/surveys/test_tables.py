"""Cross-tables: weighted percentages, intervals that widen with the weights, unweighted bases."""

from __future__ import annotations

import numpy as np
import pytest

from services.surveys.tables import (
    crosstab,
    percentages,
    proportion_interval,
    published_table,
    weighted_mean,
)


def test_the_textbook_interval_for_a_proportion_is_reproduced():
    # OpenIntro Statistics, 4th ed. (Diez, Cetinkaya-Rundel, Barr), section 6.1: 887 of a
    # simple random sample of 1000 American adults support expanding solar energy;
    # p = 0.887, SE = 0.010, and the 95% interval is 0.887 +/- 1.96 x 0.010 = (0.8674, 0.9066).
    answers = np.array([0] * 887 + [1] * 113)
    table = crosstab(answers, np.zeros(1000, dtype=int), np.ones(1000),
                     rows=["support", "oppose"], columns=["all adults"])
    shares = percentages(table)
    assert table.bases.tolist() == [1000]
    assert shares.unweighted[0, 0] == pytest.approx(88.7)
    assert shares.unweighted_low[0, 0] == pytest.approx(86.74, abs=0.005)
    assert shares.unweighted_high[0, 0] == pytest.approx(90.66, abs=0.005)
    # Equal weights change nothing: the weighted interval is the same one.
    assert shares.weighted_low[0, 0] == pytest.approx(shares.unweighted_low[0, 0])


def test_unequal_weights_widen_the_interval_by_the_root_of_the_design_effect():
    answers = np.array([0, 1] * 500)
    weights = np.where(np.arange(1000) < 500, 1.0, 3.0)  # deff = 1.25 (Kish 1 + CV^2)
    table = crosstab(answers, np.zeros(1000, dtype=int), weights, rows=["yes", "no"],
                     columns=["all"])
    assert table.effective_bases[0] == pytest.approx(800.0)
    low, high = proportion_interval(np.array([0.5]), np.array([1000.0]))
    shares = percentages(table)
    unweighted_half_width = (high[0] - low[0]) / 2 * 100
    weighted_half_width = (shares.weighted_high[0, 0] - shares.weighted_low[0, 0]) / 2
    assert weighted_half_width == pytest.approx(unweighted_half_width * np.sqrt(1.25))


def test_weighted_percentages_and_unweighted_bases_by_group():
    # Group a: 3 say yes (weight 2), 1 no (weight 1); group b: 1 yes, 1 no (weight 1).
    answers = np.array([0, 0, 0, 1, 0, 1])
    groups = np.array([0, 0, 0, 0, 1, 1])
    weights = np.array([2.0, 2.0, 2.0, 1.0, 1.0, 1.0])
    table = crosstab(answers, groups, weights, rows=["yes", "no"], columns=["a", "b"])
    assert table.bases.tolist() == [4, 2]
    assert table.weighted_bases.tolist() == [7.0, 2.0]
    shares = percentages(table.with_total())
    np.testing.assert_allclose(shares.weighted[:, 0], [600 / 7, 100 / 7])
    np.testing.assert_allclose(shares.unweighted[:, 0], [75.0, 25.0])
    np.testing.assert_allclose(shares.weighted[:, 2], [700 / 9, 200 / 9])
    assert table.with_total().columns == ["a", "b", "all"]


def test_grouped_counts_tabulate_as_the_respondents_they_stand_for():
    one_by_one = crosstab(np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([1.5, 1.5, 0.5]),
                          rows=["x", "y"], columns=["g"])
    grouped = crosstab(np.array([0, 1]), np.array([0, 0]), np.array([1.5, 0.5]),
                       rows=["x", "y"], columns=["g"], frequency=np.array([2, 1]))
    np.testing.assert_array_equal(one_by_one.counts, grouped.counts)
    np.testing.assert_allclose(one_by_one.weighted, grouped.weighted)
    np.testing.assert_allclose(one_by_one.squares, grouped.squares)


def test_weighted_mean_of_a_rating():
    assert weighted_mean(np.array([1, 5]), np.array([3.0, 1.0])) == pytest.approx(2.0)
    assert weighted_mean(np.array([]), np.array([])) is None


def test_a_published_table_hides_a_small_column_with_its_base_and_percentages():
    answers = np.array([0] * 40 + [1] * 30 + [0] * 3 + [1] * 2 + [0] * 25 + [1] * 20)
    groups = np.array([0] * 70 + [1] * 5 + [2] * 45)
    table = crosstab(answers, groups, np.ones(answers.size), rows=["yes", "no"],
                     columns=["16-24", "25-34", "35-44"])
    published = published_table(table, threshold=10)
    by_cell = {(c["row"], c["column"]): c for c in published["cells"]}
    bases = {b["column"]: b for b in published["bases"]}
    assert bases["25-34"]["base"] is None and bases["25-34"]["suppressed"]
    assert by_cell[("yes", "25-34")]["percent"] is None
    assert by_cell[("yes", "25-34")]["count"] is None
    # The base row then needs a second hidden base, or 25-34 = all minus the others.
    assert sum(b["base"] is None for b in published["bases"]) >= 2
    assert bases["all"]["base"] == 120
    assert by_cell[("yes", "all")]["percent"] is not None
