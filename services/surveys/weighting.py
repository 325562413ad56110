"""Raking respondents' weights to population margins, over the collapsed cross-classification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

DEFAULT_CAP = 5.0  # times the mean weight, as the ANES weighting procedure trims
DEFAULT_TOLERANCE = 1e-6  # largest relative margin error accepted
DEFAULT_MAX_ITERATIONS = 1000


class WeightingError(ValueError):
    """Inputs that cannot describe a raking problem at all (codes out of range, no margins)."""


@dataclass(frozen=True)
class MarginError:
    """How far one category's weighted share ends from its population share."""

    dimension: str
    category: str
    target_share: float
    achieved_share: float

    @property
    def relative_error(self) -> float:
        if self.target_share == 0:
            return 0.0 if self.achieved_share == 0 else float("inf")
        return abs(self.achieved_share - self.target_share) / self.target_share


@dataclass(frozen=True)
class OutsideMargin:
    """Respondents in a category the population margin does not have (e.g. "another gender"
    against a census of women and men): they are in no category of that margin."""

    dimension: str
    category: str
    respondents: float


@dataclass
class RakingResult:
    """Weights (mean 1) and an honest account of how well they reach the margins."""

    weights: np.ndarray
    converged: bool
    iterations: int
    max_relative_error: float
    cap: float | None
    min_weight: float
    max_weight: float
    design_effect: float
    effective_sample_size: float
    failing: list[MarginError] = field(default_factory=list)
    advice: str | None = None
    outside: list[OutsideMargin] = field(default_factory=list)

    def summary(self) -> dict:
        """Everything but the weights, as plain data for JSON."""
        return {
            "converged": self.converged, "iterations": self.iterations,
            "max_relative_error": self.max_relative_error, "cap": self.cap,
            "min_weight": self.min_weight, "max_weight": self.max_weight,
            "design_effect": self.design_effect,
            "effective_sample_size": self.effective_sample_size,
            "failing": [
                {"dimension": m.dimension, "category": m.category,
                 "target_share": m.target_share, "achieved_share": m.achieved_share}
                for m in self.failing
            ],
            "advice": self.advice,
            "outside_margins": [
                {"dimension": o.dimension, "category": o.category,
                 "respondents": int(round(o.respondents))}
                for o in self.outside
            ],
        }


def kish(weights: np.ndarray, counts: np.ndarray | None = None) -> tuple[float, float]:
    """Kish's design effect due to weighting, 1 + CV², and the effective sample size n / deff.

    `counts` lets `weights` be per cell: each cell's weight stands for that many people.
    """
    n = np.ones_like(weights) if counts is None else counts
    total, squares, size = float(n @ weights), float(n @ (weights * weights)), float(n.sum())
    if total <= 0:
        return float("nan"), 0.0
    effective = total * total / squares
    return size / effective, effective


def rake(
    codes: Mapping[str, np.ndarray],
    margins: Mapping[str, Sequence[float]],
    *,
    labels: Mapping[str, Sequence[str]] | None = None,
    cap: float | None = DEFAULT_CAP,
    tolerance: float = DEFAULT_TOLERANCE,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    frequency: np.ndarray | None = None,
) -> RakingResult:
    """Rake respondents to the margins: `codes[d][i]` is respondent i's category index in
    dimension d, `margins[d][k]` the population of category k (any scale; shares are used).

    The respondents collapse to the occupied cells of the cross-classification; raking
    then works on cell counts, so its cost follows the number of cells, not of people.
    `frequency[i]`, when given, makes entry i stand for that many respondents sharing its
    categories (counts grouped in SQL); weights come back one per entry.
    `cap` trims weights above cap × mean and re-rakes (None: no cap). Convergence is the
    largest relative margin error at or under `tolerance`; when it is not reached the
    result says which margin fails and what to do, and `converged` is False.

    A category whose population is 0 while respondents are in it (the census has no
    "another gender") is outside that margin: its respondents are left out of that
    margin's raking, keeping the weight the other margins give them, and the margin's
    shares apply to the respondents inside it. `outside` lists who was left out.
    """
    dimensions = list(margins)
    if not dimensions:
        raise WeightingError("Give at least one margin to rake to.")
    labels = labels or {}
    shares = []
    for dimension in dimensions:
        target = np.asarray(margins[dimension], dtype=float)
        if target.ndim != 1 or target.size == 0 or (target < 0).any() or target.sum() <= 0:
            raise WeightingError(f"The {dimension} margin needs positive populations.")
        shares.append(target / target.sum())
    sizes = [s.size for s in shares]
    columns = [np.asarray(codes[dimension], dtype=np.int64) for dimension in dimensions]
    entries = columns[0].size
    freq = None if frequency is None else np.asarray(frequency, dtype=float)
    respondents = float(entries if freq is None else freq.sum())
    if entries == 0 or respondents <= 0:
        raise WeightingError("There are no respondents to weight.")

    # Collapse: one flat index per respondent, counts per occupied cell.
    try:  # ravel_multi_index refuses codes out of range, which saves a pass over each
        flat = np.ravel_multi_index(columns, sizes) if len(columns) > 1 else \
            np.ravel_multi_index((columns[0],), sizes)
    except ValueError:
        for dimension, column, size in zip(dimensions, columns, sizes, strict=True):
            if column.size and (column.min() < 0 or column.max() >= size):
                raise WeightingError(
                    f"A {dimension} code is outside its {size} categories.") from None
        raise
    cell_count = int(np.prod(sizes, dtype=np.int64))
    dense = cell_count <= 4 * entries
    if dense:
        counts_all = (np.bincount(flat, minlength=cell_count) if frequency is None
                      else np.bincount(flat, weights=freq, minlength=cell_count))
        occupied = np.flatnonzero(counts_all)
        counts = counts_all[occupied].astype(float)
    else:  # a sparse cross-classification: do not allocate every possible cell
        occupied, respondent_cell = np.unique(flat, return_inverse=True)
        counts = np.bincount(respondent_cell, weights=freq, minlength=occupied.size)
    cell_codes = np.unravel_index(occupied, sizes) if len(columns) > 1 else (occupied,)
    inside = [share > 0 for share in shares]

    weights, iterations, error = _rake_cells(counts, cell_codes, shares, inside, sizes, cap,
                                             tolerance, max_iterations)
    present = [np.bincount(c, weights=counts, minlength=k)
               for c, k in zip(cell_codes, sizes, strict=True)]
    errors, outside = [], []
    for d, dimension in enumerate(dimensions):
        achieved = _inside_shares(cell_codes[d], counts * weights, sizes[d], inside[d])
        for k in range(sizes[d]):
            category = _label(labels, dimension, k)
            if not inside[d][k]:
                if present[d][k] > 0:
                    outside.append(OutsideMargin(dimension, category, float(present[d][k])))
                continue
            errors.append(MarginError(dimension, category, float(shares[d][k]),
                                      float(achieved[k])))
    converged = error <= tolerance
    failing = sorted((m for m in errors if m.relative_error > tolerance),
                     key=lambda m: m.relative_error, reverse=True)
    deff, effective = kish(weights, counts)
    if dense:  # one gather from every possible cell, rather than two through a lookup
        by_cell = np.zeros(cell_count)
        by_cell[occupied] = weights
        respondent_weights = by_cell[flat]
    else:
        respondent_weights = weights[respondent_cell]
    return RakingResult(
        weights=respondent_weights, converged=converged, iterations=iterations,
        max_relative_error=float(error), cap=cap,
        min_weight=float(weights.min()), max_weight=float(weights.max()),
        design_effect=deff, effective_sample_size=effective,
        failing=[] if converged else failing,
        advice=None if converged else _advice(failing, cap, max_iterations),
        outside=outside,
    )


def _inside_shares(codes, weighted, size, inside) -> np.ndarray:
    """Each category's share of the weight of the respondents inside the margin."""
    reached = np.bincount(codes, weights=weighted, minlength=size)
    total = reached[inside].sum()
    return np.divide(reached, total, out=np.zeros(size), where=inside & (total > 0))


def _rake_cells(counts, cell_codes, shares, inside, sizes, cap, tolerance, max_iterations):
    """Iterative proportional fitting on cell weights; returns weights, iterations, error.

    Each margin moves weight only among the respondents inside it, to its shares of their
    current total; those outside it keep what the other margins give them.
    """
    weights = np.ones_like(counts)
    error = np.inf
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported afterwards
        for c, k, share, within in zip(cell_codes, sizes, shares, inside, strict=True):
            reached = np.bincount(c, weights=counts * weights, minlength=k)
            target = share * reached[within].sum()
            # A category with population but no respondents can never be reached: it
            # shows up as an error.
            factor = np.divide(target, reached, out=np.ones(k), where=within & (reached > 0))
            weights *= factor[c]
        if cap is not None:
            _trim(weights, counts, cap)
        error = _max_relative_error(counts, weights, cell_codes, shares, inside, sizes)
        if error <= tolerance:
            break
    mean = (counts @ weights) / counts.sum()
    return weights / mean, iterations, error


def _trim(weights: np.ndarray, counts: np.ndarray, cap: float) -> None:
    """Trim weights to cap x their mean, in place; trimming lowers the mean, so repeat."""
    size = counts.sum()
    for _ in range(100):
        weights /= (counts @ weights) / size
        if weights.max() <= cap * (1 + 1e-12):
            return
        np.minimum(weights, cap, out=weights)


def _max_relative_error(counts, weights, cell_codes, shares, inside, sizes) -> float:
    worst = 0.0
    for c, k, share, within in zip(cell_codes, sizes, shares, inside, strict=True):
        reached = _inside_shares(c, counts * weights, k, within)
        gap = np.abs(reached - share)[within]
        relative = gap / share[within]
        worst = max(worst, float(relative.max()) if relative.size else 0.0)
    return worst


def _label(labels: Mapping[str, Sequence[str]], dimension: str, index: int) -> str:
    names = labels.get(dimension)
    return str(names[index]) if names is not None and index < len(names) else str(index)


def _advice(failing: list[MarginError], cap: float | None, max_iterations: int) -> str:
    if not failing:
        return f"Raking did not settle within {max_iterations} iterations."
    worst = failing[0]
    where = f"{worst.dimension} = {worst.category}"
    if worst.achieved_share == 0 and worst.target_share > 0:
        return (f"No respondent is in {where}, so its margin cannot be reached: collapse "
                f"it with a neighbouring {worst.dimension} category.")
    reach = (f"the {where} margin ends at {worst.achieved_share:.4%} against a population "
             f"share of {worst.target_share:.4%}")
    if cap is not None:
        return (f"With weights capped at {cap:g}× the mean, {reach}: collapse {worst.category} "
                f"with a neighbouring {worst.dimension} category, or raise the cap.")
    return f"Raking did not converge: {reach}; collapse {worst.category} with a neighbour."
