"""The selection step on its own: quotas, order within a cell, determinism, replacement."""

from __future__ import annotations

import numpy as np

from services.panel.contact_cap import ContactCap, free_at
from services.panel.quotas import (
    cell_categories,
    cells_from_codes,
    largest_remainder,
    proportional_cells,
)
from services.panel.sampling import rank_within_cells, reference_rank_within_cells
from tests.panel.factories import days_ago


def _panel(n=1000, cells=4, seed=3):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, cells, n).astype(np.int32),
            np.where(rng.random(n) < 0.5, 0, rng.integers(19000, 20000, n)),
            np.arange(1, n + 1, dtype=np.int64))


def test_each_cell_gets_exactly_its_target_when_it_has_enough_members():
    cell, recency, ids = _panel()
    ranked = rank_within_cells(cell, recency, ids, np.array([5, 0, 17, 40]), seed=1)
    assert [len(r) for r in ranked] == [5, 0, 17, 40]
    for c, positions in enumerate(ranked):
        assert set(cell[positions]) <= {c}


def test_never_contacted_members_come_before_the_least_recently_contacted():
    cell = np.zeros(6, dtype=np.int32)
    recency = np.array([20010, 0, 20000, 0, 20005, 20001])
    ranked = rank_within_cells(cell, recency, np.arange(6), np.array([4]), seed=9)[0]
    assert set(ranked[:2]) == {1, 3}
    assert list(ranked[2:]) == [2, 5]


def test_same_seed_same_sample_and_another_seed_another():
    cell, recency, ids = _panel()
    recency[:] = 0
    a = rank_within_cells(cell, recency, ids, np.array([10, 10, 10, 10]), seed=42)
    b = rank_within_cells(cell, recency, ids, np.array([10, 10, 10, 10]), seed=42)
    c = rank_within_cells(cell, recency, ids, np.array([10, 10, 10, 10]), seed=43)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_excluding_a_chosen_member_brings_in_the_next_of_the_same_cell_only():
    cell, recency, ids = _panel()
    before = rank_within_cells(cell, recency, ids, np.array([8, 8, 8, 8]), seed=5)
    gone = before[2][3]
    cell_without = cell.copy()
    cell_without[gone] = -1
    after = rank_within_cells(cell_without, recency, ids, np.array([8, 8, 8, 8]), seed=5)
    assert all(np.array_equal(before[c], after[c]) for c in (0, 1, 3))
    assert gone not in after[2] and len(after[2]) == 8
    assert set(after[2]) - set(before[2]) <= set(np.flatnonzero(cell == 2))
    assert set(before[2]) - set(after[2]) == {gone}


def test_selection_matches_the_plain_reference_on_who_is_drawn_per_cell():
    cell, recency, ids = _panel(5000, 12)
    wanted = np.full(12, 20)
    ours = rank_within_cells(cell, recency, ids, wanted, seed=7)
    ref = reference_rank_within_cells(cell, recency, ids, wanted, seed=7)
    for a, b in zip(ours, ref, strict=True):
        assert len(a) == len(b) == 20
        assert sorted(recency[a]) == sorted(recency[b])


def test_proportional_quotas_follow_population_and_add_up_to_the_size():
    margins = {"E05000001": {"age_band": {"16-24": 300, "25-34": 700}},
               "E05000002": {"age_band": {"16-24": 500, "25-34": 500}}}
    cells = proportional_cells(margins, ["age_band"], 100)
    assert {c["cell"]["age_band"]: c["target"] for c in cells} == {"16-24": 40, "25-34": 60}
    by_area = proportional_cells(margins, ["area", "age_band"], 10)
    assert sum(c["target"] for c in by_area) == 10
    assert largest_remainder([1, 1, 1], 10) == [4, 3, 3]


def test_members_fall_into_the_cell_matching_all_its_dimensions():
    cells = [{"age_band": "16-24", "area": "A"}, {"age_band": "16-24", "area": "B"}]
    dims = ["age_band", "area"]
    categories = cell_categories(cells, dims)
    assert categories == [["16-24"], ["A", "B"]]
    # Members: 16-24 in A, 25-34 (named by no cell: -1) in A, 16-24 in B.
    codes = [np.array([0, -1, 0]), np.array([0, 0, 1])]
    assert list(cells_from_codes(codes, categories, dims, cells)) == [0, -1, 1]
    mixed = [{"area": "B"}, {"age_band": "16-24"}]  # cells over different dimensions
    mixed_codes = [np.array([0, -1, 0]), np.array([-1, -1, 0])]  # "A" is named by no cell
    assert list(cells_from_codes(mixed_codes, cell_categories(mixed, dims), dims, mixed)) == \
        [1, -1, 0]


def test_cap_frees_a_member_after_the_gap_and_when_the_oldest_of_n_leaves_the_window():
    cap = ContactCap(invitations=3)
    assert free_at(cap, []) is None
    one = days_ago(1)
    assert free_at(cap, [one]) == one + cap.min_gap
    three = [days_ago(80), days_ago(40), days_ago(20)]
    assert free_at(cap, three) == three[0] + cap.window
