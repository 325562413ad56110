"""Population targets: census margins per area and dimension, read from a long CSV."""

from __future__ import annotations

import csv
import io
import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.panel.models import Member, PopulationTarget
from services.panel.schemas import TENURES
from shared.profile import AGE_BANDS, DISABILITY, ETHNICITIES, GENDERS

COLUMNS = ("vintage", "area", "dimension", "category", "population")
CATEGORIES = {
    "age_band": AGE_BANDS, "gender": GENDERS, "ethnicity": ETHNICITIES,
    "disability": DISABILITY, "tenure": TENURES,
    "deprivation_decile": tuple(str(d) for d in range(1, 11)),
}


class TargetsInvalid(ValueError):
    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} problem(s) in the population file")
        self.errors = errors


def parse_targets(body: str) -> tuple[str, dict]:
    """The vintage and {area: {dimension: {category: population}}}, or TargetsInvalid."""
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TargetsInvalid([{"line": 1, "field": c, "reason": "missing column"}
                              for c in missing])
    errors: list[dict] = []
    areas: dict = {}
    vintages = set()
    for row in reader:
        line = reader.line_num
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        dim, category, area = row["dimension"], row["category"], row["area"]
        if dim not in CATEGORIES:
            errors.append({"line": line, "field": "dimension", "reason": f"unknown: {dim!r}"})
            continue
        if category not in CATEGORIES[dim]:
            errors.append({"line": line, "field": "category",
                           "reason": f"not one of {', '.join(CATEGORIES[dim])}"})
            continue
        if not (len(area) == 9 and area[:3] in ("E05", "W05")):
            errors.append({"line": line, "field": "area", "reason": "not a ward code (E05/W05)"})
            continue
        try:
            population = float(row["population"])
            # float() reads "1e400" as inf and "nan" as nan; neither is a population.
            if not math.isfinite(population) or population < 0:
                raise ValueError
        except ValueError:
            errors.append({"line": line, "field": "population",
                           "reason": "not a non-negative number"})
            continue
        vintages.add(row["vintage"])
        cell = areas.setdefault(area, {}).setdefault(dim, {})
        if category in cell:
            errors.append({"line": line, "field": "category", "reason": "repeated for this area"})
        cell[category] = population
    if len(vintages) > 1:
        errors.append({"line": 1, "field": "vintage", "reason": "one vintage per file"})
    if not areas and not errors:
        errors.append({"line": 1, "field": "area", "reason": "no rows"})
    if errors:
        raise TargetsInvalid(errors)
    return vintages.pop(), areas


def replace_targets(session: Session, vintage: str, areas: dict) -> int:
    """Swap in a new set of margins for the areas in the file; returns the rows stored."""
    session.execute(delete(PopulationTarget).where(PopulationTarget.area.in_(list(areas))))
    rows = [PopulationTarget(vintage=vintage, area=area, dimension=dim, category=cat,
                             population=pop)
            for area, dims in areas.items() for dim, cats in dims.items()
            for cat, pop in cats.items()]
    session.add_all(rows)
    return len(rows)


def member_counts(session: Session, *where) -> dict:
    """{area: {dimension: {category: members}}} of active members matching `where`."""
    counts: dict = {}
    for dim in CATEGORIES:
        column = getattr(Member, dim)
        query = select(Member.area, column, func.count()).where(
            Member.status == "active", *where).group_by(Member.area, column)
        for area, category, n in session.execute(query):
            if category is not None:
                counts.setdefault(area, {}).setdefault(dim, {})[str(category)] = n
    return counts


def margins_from_db(session: Session) -> dict:
    """The stored margins as {area: {dimension: {category: population}}}."""
    margins: dict = {}
    for t in session.scalars(select(PopulationTarget)):
        margins.setdefault(t.area, {}).setdefault(t.dimension, {})[t.category] = t.population
    return margins
