"""Population targets: census margins per area and dimension, read from a long CSV."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

from sqlalchemy import delete, func, null, select, tuple_
from sqlalchemy.orm import Session

from services.panel.models import Member, PopulationTarget
from shared.bus import Bus
from shared.errors import RuleBroken
from shared.profile import AREA_CODE_ERROR, CATEGORIES, formula_problem, is_area_code

COLUMNS = ("vintage", "area", "dimension", "category", "population")
OPTIONAL_COLUMNS = ("area_name",)
AREA_NAME_MAX = 100
# As stored (surveys' copy of the targets keeps the same length).
VINTAGE_MAX = PopulationTarget.__table__.c.vintage.type.length


def target_columns() -> str:
    """What a census file holds, for the API's documentation (docs/population-targets.md)."""
    return ("A long CSV, one row per area, dimension and category. Columns: "
            + ", ".join(COLUMNS) + ", and optionally area_name (the ward's name). Dimensions "
            "and their categories: " + "; ".join(f"{d}: {', '.join(c)}"
                                                 for d, c in CATEGORIES.items())
            + ". See docs/population-targets.md.")


class TargetsInvalid(RuleBroken):
    """Every problem of a census file: `problems` lists each line, field and reason."""

    location = None  # the API answers {"file": [problems]}

    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s) in the population file",
                         errors={"file": problems})
        self.problems = problems


@dataclass(frozen=True)
class PopulationFile:
    """A census file read whole: its vintage, margins and the names of its areas."""

    vintage: str
    areas: dict  # {area: {dimension: {category: population}}}
    area_names: dict[str, str] = field(default_factory=dict)


def row_problems(row: dict) -> list[tuple[str, str]]:
    """Every (field, reason) wrong with one row, not just the first."""
    problems = []
    dim, category, area = row["dimension"], row["category"], row["area"]
    if dim not in CATEGORIES:
        problems.append(("dimension", f"unknown: {dim!r}; one of {', '.join(CATEGORIES)}"))
    elif category not in CATEGORIES[dim]:
        problems.append(("category", f"not one of {', '.join(CATEGORIES[dim])}"))
    if not is_area_code(area):
        problems.append(("area", AREA_CODE_ERROR))
    try:
        population = float(row["population"])
        # float() reads "1e400" as inf and "nan" as nan; neither is a population.
        if not math.isfinite(population) or population < 0:
            raise ValueError
    except ValueError:
        problems.append(("population", "not a non-negative number"))
    if not row["vintage"]:
        problems.append(("vintage", "missing"))
    elif len(row["vintage"]) > VINTAGE_MAX:
        problems.append(("vintage", f"longer than {VINTAGE_MAX} characters"))
    name = row.get("area_name", "")
    if len(name) > AREA_NAME_MAX:
        problems.append(("area_name", f"longer than {AREA_NAME_MAX} characters"))
    elif name and (formula := formula_problem(name)):
        problems.append(("area_name", formula))
    return problems


def parse_targets(body: str) -> PopulationFile:
    """The file's vintage, margins and area names, or TargetsInvalid listing every problem
    of every row."""
    reader = csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TargetsInvalid([{"line": 1, "field": c, "reason": "missing column"}
                              for c in missing])
    errors: list[dict] = []
    areas: dict = {}
    names: dict[str, tuple[str, int]] = {}
    vintages = set()
    for row in reader:
        line = reader.line_num
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        problems = row_problems(row)
        area, dim, category, name = row["area"], row["dimension"], row["category"], \
            row.get("area_name", "")
        if name and area in names and names[area][0] != name:
            problems.append(("area_name", f"line {names[area][1]} names this area "
                                          f"{names[area][0]!r}"))
        cell = areas.get(area, {}).get(dim, {})
        if not problems and category in cell:
            problems.append(("category", "repeated for this area"))
        errors += [{"line": line, "field": f, "reason": r} for f, r in problems]
        if problems:
            continue
        if name:
            names.setdefault(area, (name, line))
        vintages.add(row["vintage"])
        areas.setdefault(area, {}).setdefault(dim, {})[category] = float(row["population"])
    if len(vintages) > 1:
        errors.append({"line": 1, "field": "vintage", "reason": "one vintage per file"})
    if not areas and not errors:
        errors.append({"line": 1, "field": "area", "reason": "no rows"})
    if errors:
        raise TargetsInvalid(errors)
    return PopulationFile(vintages.pop(), areas, {a: n for a, (n, _) in names.items()})


def _replace_targets(session: Session, population: PopulationFile) -> int:
    """Swap in a new set of margins for the areas in the file; returns the rows stored."""
    areas = population.areas
    session.execute(delete(PopulationTarget).where(PopulationTarget.area.in_(list(areas))))
    rows = [PopulationTarget(vintage=population.vintage, area=area,
                             area_name=population.area_names.get(area), dimension=dim,
                             category=cat, population=pop)
            for area, dims in areas.items() for dim, cats in dims.items()
            for cat, pop in cats.items()]
    session.add_all(rows)
    return len(rows)


def import_targets(session: Session, bus: Bus, *, body: str) -> dict:
    """Read a census file (TargetsInvalid listing every problem), swap in its margins and
    send surveys its copy, in one transaction; what was stored."""
    population = parse_targets(body)
    stored = _replace_targets(session, population)
    bus.send(session, "surveys.population_targets", {
        "vintage": population.vintage, "areas": population.areas,
        "area_names": population.area_names})
    session.commit()
    return {"vintage": population.vintage, "areas": len(population.areas),
            "named_areas": len(population.area_names), "targets": stored}


def member_counts(session: Session, *where) -> dict:
    """{area: {dimension: {category: members}}} of active members matching `where`.

    PostgreSQL counts every dimension in one pass over the members (GROUPING SETS of area and
    each dimension: a row's one non-null dimension says which it counts), about half the time
    of one query per dimension at 100,000 members; SQLite has no grouping sets and is asked
    once per dimension.
    """
    dimensions = list(CATEGORIES)
    columns = [getattr(Member, dimension) for dimension in dimensions]
    active = (Member.status == "active", *where)
    if session.get_bind().dialect.name == "postgresql":
        queries = [select(Member.area, *columns, func.count()).where(*active).group_by(
            func.grouping_sets(*(tuple_(Member.area, column) for column in columns)))]
    else:
        queries = [select(Member.area, *(column if column is counted else null()
                                         for column in columns), func.count())
                   .where(*active).group_by(Member.area, counted) for counted in columns]
    counts: dict = {}
    for query in queries:
        for area, *categories, n in session.execute(query):
            for dimension, category in zip(dimensions, categories, strict=True):
                if category is not None:
                    counts.setdefault(area, {}).setdefault(dimension, {})[str(category)] = n
    return counts


def margins_from_db(session: Session) -> dict:
    """The stored margins as {area: {dimension: {category: population}}}."""
    margins: dict = {}
    for t in session.scalars(select(PopulationTarget)):
        margins.setdefault(t.area, {}).setdefault(t.dimension, {})[t.category] = t.population
    return margins


def area_names(session: Session) -> dict[str, str]:
    """{area code: name} of every area whose census file named it."""
    return {area: name for area, name in session.execute(
        select(PopulationTarget.area, PopulationTarget.area_name)
        .where(PopulationTarget.area_name.is_not(None)).distinct())}


@dataclass(frozen=True)
class AreaCoverage:
    """What the stored margins cover in one area: its dimensions and their categories."""

    code: str
    name: str
    vintage: str
    dimensions: list[tuple[str, list[str], bool]]  # (dimension, categories, all of them)
    population: float  # the largest total over its dimensions


def coverage(session: Session) -> list[AreaCoverage]:
    """Every area with targets, by name, and the dimensions and categories it covers."""
    margins = margins_from_db(session)
    names = area_names(session)
    vintages = dict(session.execute(select(PopulationTarget.area, PopulationTarget.vintage)
                                    .distinct()).all())
    areas = []
    for code, dims in margins.items():
        covered = [(dim, [c for c in CATEGORIES[dim] if c in dims[dim]],
                    set(CATEGORIES[dim]) <= set(dims[dim])) for dim in CATEGORIES if dim in dims]
        areas.append(AreaCoverage(code, names.get(code) or code, vintages.get(code, ""),
                                  covered, max(sum(c.values()) for c in dims.values())))
    return sorted(areas, key=lambda area: area.name)
