"""Choosing which members a survey invites: pure functions over plain data."""

from __future__ import annotations

import random
from collections.abc import Sequence


def pick_at_random(candidates: Sequence[int], size: int, seed: int) -> list[int]:
    """Up to `size` distinct candidates, the same ones for the same seed."""
    ordered = sorted(candidates)
    if size >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, size))
