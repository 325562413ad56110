"""Choosing which members a draw invites: a pure function over arrays, one sort per draw."""

from __future__ import annotations

import numpy as np

CELL_BITS = 12  # up to 4,096 quota cells in one draw
RECENCY_BITS = 16  # days since the epoch of the last invitation; 0 = never invited
MIN_RANDOM_BITS = 8
_SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def seeded_noise(ids: np.ndarray, seed: int) -> np.ndarray:
    """A random-looking uint64 per member that depends only on (seed, member id).

    Keying the tie-break on the member rather than on its position keeps every other member's
    place when one is excluded, so an exclusion is replaced by the next member of its cell.
    """
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _SPLITMIX_GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def rank_within_cells(cell: np.ndarray, recency_days: np.ndarray, ids: np.ndarray,
                      wanted: np.ndarray, seed: int) -> list[np.ndarray]:
    """For each cell, the positions of its first `wanted[c]` candidates in draw order.

    Order within a cell: never invited first, then least recently invited, then a seeded
    shuffle. `cell` holds each candidate's cell index, or -1 for none; `recency_days` the
    day number of the last invitation (0 = never). Deterministic for a given seed.
    """
    n_cells = len(wanted)
    if n_cells >= 1 << CELL_BITS:
        raise ValueError(f"at most {(1 << CELL_BITS) - 1} cells in one draw")
    positions = np.flatnonzero(cell >= 0)
    if positions.size == 0:
        return [np.empty(0, dtype=np.int64) for _ in range(n_cells)]
    position_bits = max(1, int(positions.size - 1).bit_length())
    random_bits = 64 - CELL_BITS - RECENCY_BITS - position_bits
    if random_bits < MIN_RANDOM_BITS:
        raise ValueError("too many candidates for one combined sort key")
    u = np.uint64
    recency = np.clip(recency_days[positions], 0, (1 << RECENCY_BITS) - 1).astype(u)
    noise = seeded_noise(ids[positions], seed) >> u(64 - random_bits)
    # The candidate's index rides in the low bits, so sorting the keys themselves (not
    # argsort) is enough to know who is where.
    key = (cell[positions].astype(u) << u(64 - CELL_BITS)) \
        | (recency << u(64 - CELL_BITS - RECENCY_BITS)) \
        | (noise << u(position_bits)) \
        | np.arange(positions.size, dtype=u)
    key.sort()
    sorted_cells = (key >> u(64 - CELL_BITS)).astype(np.int64)
    starts = np.searchsorted(sorted_cells, np.arange(n_cells), side="left")
    ends = np.searchsorted(sorted_cells, np.arange(n_cells), side="right")
    mask = u((1 << position_bits) - 1)
    ranked = []
    for c in range(n_cells):
        stop = min(ends[c], starts[c] + int(wanted[c]))
        ranked.append(positions[(key[starts[c]:stop] & mask).astype(np.int64)])
    return ranked


def reference_rank_within_cells(cell: np.ndarray, recency_days: np.ndarray, ids: np.ndarray,
                                wanted: np.ndarray, seed: int) -> list[np.ndarray]:
    """The plain reference: one argsort on a combined integer key, then a slice per cell."""
    noise = (seeded_noise(ids, seed) >> np.uint64(44)).astype(np.int64)  # 20 bits
    key = (cell.astype(np.int64) << 40) | (np.clip(recency_days, 0, 0xFFFF) << 20) | noise
    key[cell < 0] = np.iinfo(np.int64).max
    order = np.argsort(key, kind="stable")
    sorted_cells = cell[order]
    ranked = []
    for c in range(len(wanted)):
        members = order[sorted_cells == c]
        ranked.append(members[: int(wanted[c])])
    return ranked
