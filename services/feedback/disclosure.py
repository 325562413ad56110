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


def publishable_question(question: dict, threshold: int) -> dict:
    """One question's result as it may be published.

    A weighted percentage is hidden wherever its count is, since it would give the
    count away; a mean over fewer people than the threshold is hidden too.
    """
    counts = suppress_counts(question.get("counts") or {}, threshold)
    weighted = question.get("weighted_percent")
    if weighted is not None:
        weighted = {answer: None if counts.get(answer, 0) is None else round(share, 1)
                    for answer, share in weighted.items()}
    small_base = question.get("base", 0) < threshold
    return {
        **question,
        "counts": counts,
        "weighted_percent": weighted,
        "mean": None if small_base else question.get("mean"),
        "weighted_mean": None if small_base else question.get("weighted_mean"),
    }


def published_results(results: list[dict], threshold: int) -> list[dict]:
    """A report's results as they may be published."""
    return [publishable_question(question, threshold) for question in results]
