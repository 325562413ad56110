"""Disclosure control for published figures: small cells are never shown, nor recoverable."""

from __future__ import annotations


def suppress_counts(counts: dict[str, int], threshold: int) -> dict[str, int | None]:
    """Counts with small cells (1 to threshold-1) replaced by None.

    When only one cell is hidden, the smallest other non-zero cell is hidden too,
    so the hidden one cannot be worked out from the total.
    """
    shown: dict[str, int | None] = {
        answer: None if 0 < count < threshold else count for answer, count in counts.items()
    }
    hidden = [answer for answer, count in shown.items() if count is None]
    if len(hidden) == 1:
        others = [(count, answer) for answer, count in shown.items() if count]
        if others:
            shown[min(others)[1]] = None
    return shown


def published_results(results: list[dict], threshold: int) -> list[dict]:
    """A report's results as they may be published."""
    return [{**question, "counts": suppress_counts(question["counts"], threshold)}
            for question in results]
