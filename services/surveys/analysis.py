"""Merged, weighted results for analysts: datasets, weights and tables across sponsored surveys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session, selectinload

from services.surveys.audit import record_staff_action
from services.surveys.models import (
    AnalysisCell,
    AnalysisCellsBuilt,
    Answer,
    Invitation,
    PopulationTarget,
    Question,
    Response,
    Survey,
    SurveySponsor,
    Theme,
)
from services.surveys.population import area_names
from services.surveys.questions import YES_NO, YES_NO_WORDS
from services.surveys.tables import Table, crosstab
from services.surveys.weighting import DEFAULT_CAP, RakingResult, WeightingError, rake
from shared.audit import Actor
from shared.bus import utcnow
from shared.disclosure import suppress_counts
from shared.errors import RuleBroken
from shared.profile import CATEGORIES, LABELS, PROFILE_DIMENSIONS

PROFILE_FIELDS = PROFILE_DIMENSIONS
WEIGHTING_DIMENSIONS = ("age_band", "gender", "ethnicity", "disability")
CATEGORY_ORDER = CATEGORIES
GROUPINGS = ("survey", "wave", *PROFILE_FIELDS)
TABULATED_TYPES = ("single_choice", "yes_no", "rating")

# Questions line up across surveys by their question-bank code where one is set.
QUESTION_KEY = (func.coalesce(Question.bank_code, Question.code)
                if hasattr(Question, "bank_code") else Question.code)


class AnalysisRefused(RuleBroken):
    """A request analysis cannot serve; `errors` names the query's fields."""

    location = "query"


def readable_surveys(session: Session, *, agency: str, survey_ids: Sequence[int]) -> list[Survey]:
    """The surveys asked for, each sponsored by the agency; any other is as if it did not exist."""
    wanted = list(dict.fromkeys(survey_ids))
    surveys = session.scalars(
        select(Survey).where(
            Survey.id.in_(wanted),
            Survey.id.in_(select(SurveySponsor.survey_id).where(SurveySponsor.agency == agency)))
        .options(selectinload(Survey.questions))
    ).all()
    found = {s.id for s in surveys}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise AnalysisRefused("No such survey.", {"survey_ids": [
            f"No survey {i} sponsored by your agency." for i in missing]}, status=404)
    return sorted(surveys, key=lambda s: wanted.index(s.id))


def record_pull(session: Session, *, agency: str, role: str, key_prefix: str, action: str,
                survey_ids: Sequence[int], detail: dict, rows: int, actor: str = "") -> None:
    """Write who pulled what, and when, in the caller's transaction: a staff member in the
    console by their email (`actor`), an API caller by their key's prefix."""
    record_staff_action(session, Actor(agency=agency, role=role, actor=actor or key_prefix,
                                       key_prefix=key_prefix),
                        action, survey_ids=survey_ids, detail=detail, rows=rows)


def _profile(column: str):
    # Labelled so GROUP BY can name it: PostgreSQL would see two differently bound
    # key parameters in SELECT and GROUP BY as different expressions.
    return Invitation.profile[column].as_string().label(f"profile_{column}")


def _text(value) -> str | None:
    return None if value is None else str(value)


# -- analysis cells ---------------------------------------------------------------


def refresh_cells(session: Session, survey_ids: Sequence[int]) -> None:
    """Count each survey's respondents and answers by profile cell, as new responses come.

    Responses are only ever added, so the highest response id counted tells what is new:
    only responses after it are counted, in the caller's transaction, into rows of their
    own (readers sum the rows of a cell).
    """
    # One max() per survey: PostgreSQL answers it from the primary key's index, where a
    # GROUP BY over several surveys would read every response.
    latest = {survey_id: session.scalar(select(func.max(Response.id))
                                        .where(Response.survey_id == survey_id)) or 0
              for survey_id in survey_ids}
    built = dict(session.execute(
        select(AnalysisCellsBuilt.survey_id, AnalysisCellsBuilt.last_response_id)
        .where(AnalysisCellsBuilt.survey_id.in_(survey_ids))).all())
    fields = [getattr(AnalysisCell, f) for f in PROFILE_FIELDS]
    labels = [f"profile_{f}" for f in PROFILE_FIELDS]
    for survey_id in survey_ids:
        last, counted = latest.get(survey_id, 0), built.get(survey_id, 0)
        if counted >= last:
            continue
        profile = [_profile(f) for f in PROFILE_FIELDS]
        scope = (Response.survey_id == survey_id, Response.id > counted, Response.id <= last)
        session.execute(insert(AnalysisCell).from_select(
            [AnalysisCell.survey_id, AnalysisCell.question, AnalysisCell.value, *fields,
             AnalysisCell.count],
            select(Response.survey_id, literal(""), literal(""), *profile, func.count())
            .join(Invitation, Invitation.id == Response.invitation_id)
            .where(*scope).group_by(Response.survey_id, *labels)))
        question = QUESTION_KEY.label("question_key")
        session.execute(insert(AnalysisCell).from_select(
            [AnalysisCell.survey_id, AnalysisCell.question, AnalysisCell.value, *fields,
             AnalysisCell.count],
            select(Response.survey_id, question, Answer.value, *profile, func.count())
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .join(Question, Question.id == Answer.question_id)
            .where(*scope)
            .group_by(Response.survey_id, "question_key", Answer.value, *labels)))
        session.merge(AnalysisCellsBuilt(survey_id=survey_id, last_response_id=last,
                                         built_at=utcnow()))
    session.flush()


def _cell(column: str):
    return getattr(AnalysisCell, column)


# -- weighting ----------------------------------------------------------------


@dataclass
class SurveyWeights:
    """How one survey's respondents are weighted: per profile cell, or not at all and why."""

    survey_id: int
    dimensions: list[str]
    respondents: int
    result: RakingResult | None = None
    cell_weights: dict[tuple, float] = field(default_factory=dict)
    reason: str | None = None
    representation: list[dict] = field(default_factory=list)
    # Each (dimension, category)'s share of the weighted respondents: the margin after.
    weighted_shares: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.result is not None and self.result.converged

    def weight(self, cell: tuple) -> float:
        return self.cell_weights.get(cell, 1.0) if self.usable else 1.0

    def summary(self) -> dict:
        base = {"survey_id": self.survey_id, "dimensions": self.dimensions,
                "respondents": self.respondents, "weighted": self.usable,
                "reason": self.reason}
        if self.result is not None:
            base.update(self.result.summary())
        return base


def survey_weights(session: Session, survey: Survey, *, dimensions: Sequence[str] | None = None,
                   cap: float | None = DEFAULT_CAP) -> SurveyWeights:
    """Rake one survey's respondents to the population of its areas.

    The areas are the survey's own when it names them, else those its respondents live
    in; a margin is the sum of the targets over those areas. Respondents are grouped in
    SQL by their profile cell, so this reads a few hundred rows however many responded.
    """
    areas_of_survey = list(getattr(survey, "areas", None) or [])
    refresh_cells(session, [survey.id])
    respondents_only = (AnalysisCell.survey_id == survey.id, AnalysisCell.question == "")
    area_counts = dict(session.execute(
        select(AnalysisCell.area, func.sum(AnalysisCell.count))
        .where(*respondents_only).group_by(AnalysisCell.area)).all())
    respondents = int(sum(area_counts.values()))  # PostgreSQL sums to a Decimal
    areas = areas_of_survey or sorted(a for a in area_counts if a)
    targets: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for area, dimension, category, population in session.execute(
            select(PopulationTarget.area, PopulationTarget.dimension, PopulationTarget.category,
                   PopulationTarget.population).where(PopulationTarget.area.in_(areas))):
        targets[dimension][area][category] = float(population)
    if dimensions is None:
        dimensions = [d for d in WEIGHTING_DIMENSIONS
                      if d in targets and set(targets[d]) == set(areas)]
        if len(areas) > 1 and dimensions:
            dimensions.append("area")
    dimensions = list(dimensions)
    weights = SurveyWeights(survey.id, dimensions, respondents)
    if respondents == 0:
        weights.reason = "No one has responded yet."
        return weights
    if not dimensions:
        weights.reason = "No population targets cover this survey's areas."
        return weights
    missing = [d for d in dimensions if d != "area" and set(targets.get(d, {})) != set(areas)]
    if missing:
        weights.reason = (f"Population targets for {', '.join(missing)} do not cover every area "
                          f"of the survey ({', '.join(areas)}).")
        return weights

    margins: dict[str, dict[str, float]] = {}
    population_by_area: dict[str, float] = {}
    for dimension in dimensions:
        if dimension == "area":
            continue
        summed: dict[str, float] = defaultdict(float)
        for area, categories in targets[dimension].items():
            for category, population in categories.items():
                summed[category] += population
            population_by_area.setdefault(area, sum(categories.values()))
        margins[dimension] = dict(summed)
    if "area" in dimensions:
        for categories_by_area in targets.values():  # any dimension gives an area's people
            for area, categories in categories_by_area.items():
                population_by_area.setdefault(area, sum(categories.values()))
        margins["area"] = {area: population_by_area.get(area, 0.0) for area in areas}

    columns = [_cell(d) for d in dimensions]
    cells = session.execute(
        select(*columns, func.sum(AnalysisCell.count))
        .where(*respondents_only).group_by(*columns)).all()
    keys = [tuple(_text(v) for v in row[:-1]) for row in cells]
    frequency = np.array([row[-1] for row in cells], dtype=float)

    categories: dict[str, list[str]] = {}
    for d, dimension in enumerate(dimensions):
        seen = {key[d] for key in keys}
        order = list(CATEGORY_ORDER.get(dimension, ()))
        known = [c for c in order if c in margins[dimension]] + sorted(
            c for c in margins[dimension] if c not in order)
        # A category the census lacks (another gender) gets a margin of 0: its respondents
        # are left out of this margin's raking, and the summary says so.
        categories[dimension] = known + sorted(
            c for c in seen if c not in margins[dimension] and c is not None)
        if None in seen:
            weights.reason = f"Some respondents have no {dimension} in their profile."
            return weights
    codes = {d: np.array([categories[d].index(key[i]) for key in keys])
             for i, d in enumerate(dimensions)}
    values = {d: [margins[d].get(c, 0.0) for c in categories[d]] for d in dimensions}
    try:
        result = rake(codes, values, labels=categories, cap=cap, frequency=frequency)
    except WeightingError as exc:
        weights.reason = str(exc)
        return weights
    weights.result = result
    weights.cell_weights = {key: float(w) for key, w in zip(keys, result.weights, strict=True)}
    if not result.converged:
        weights.reason = result.advice
    weights.representation = _representation(dimensions, categories, values, codes, frequency)
    weights.weighted_shares = _weighted_shares(dimensions, categories, codes,
                                               frequency * result.weights)
    return weights


def published_weighting(weights: SurveyWeights, threshold: int) -> dict:
    """A weighting summary as published: each dimension's respondents by category go
    through the one small-cell rule, and a hidden group's share and ratio are hidden too.

    Respondents outside a margin are named with their number, or "fewer than" it when
    that number is hidden.
    """
    summary = weights.summary()
    items = [dict(item) for item in weights.representation]
    hidden: set[tuple[str, str]] = set()
    for dimension in dict.fromkeys(item["dimension"] for item in items):
        counts = {item["category"]: item["respondents"] for item in items
                  if item["dimension"] == dimension}
        shown = suppress_counts(counts, threshold, total=weights.respondents)
        hidden |= {(dimension, category) for category, count in shown.items() if count is None}
    for item in items:
        key = (item["dimension"], item["category"])
        item["suppressed"] = key in hidden
        item["weighted_share"] = weights.weighted_shares.get(key)
        if item["suppressed"]:
            item.update(respondent_share=None, ratio=None, weighted_share=None)
        item.pop("respondents")
    summary["representation"] = items
    outside = []
    for group in summary.get("outside_margins", []):
        count = None if (group["dimension"], group["category"]) in hidden else \
            group["respondents"]
        outside.append({**group, "respondents": count,
                        "note": outside_margin_note(group["dimension"], group["category"],
                                                    count, threshold)})
    summary["outside_margins"] = outside
    return summary


def outside_margin_note(dimension: str, category: str, respondents: int | None,
                        threshold: int) -> str:
    """What weighting did with respondents in a category the population margin lacks."""
    label = LABELS.get(dimension, {}).get(category, category)
    name = dimension.replace("_", " ")
    how_many = f"{respondents}" if respondents is not None else f"Fewer than {threshold}"
    return (f"{how_many} respondents with {name} “{label}” are in no {name} margin (the "
            f"population figures have no such category): they are left out of the {name} "
            f"raking and keep the weight the other margins give them.")


def _representation(dimensions, categories, values, codes, frequency) -> list[dict]:
    found = []
    total = frequency.sum()
    for d in dimensions:
        population = np.array(values[d], dtype=float)
        reached = np.bincount(codes[d], weights=frequency, minlength=population.size)
        for k, category in enumerate(categories[d]):
            pop_share = population[k] / population.sum()
            resp_share = reached[k] / total
            found.append({"dimension": d, "category": category, "respondents": int(reached[k]),
                          "population_share": round(float(pop_share), 4),
                          "respondent_share": round(float(resp_share), 4),
                          "ratio": round(float(resp_share / pop_share), 3) if pop_share else 0.0})
    return found


def _weighted_shares(dimensions, categories, codes, weighted) -> dict[tuple[str, str], float]:
    total = weighted.sum()
    shares = {}
    for d in dimensions:
        reached = np.bincount(codes[d], weights=weighted, minlength=len(categories[d]))
        for k, category in enumerate(categories[d]):
            shares[(d, category)] = round(float(reached[k] / total), 4) if total else 0.0
    return shares


# -- tables ---------------------------------------------------------------------


def question_rows(surveys: Sequence[Survey], code: str) -> tuple[str, list[str]]:
    """The type and answer categories of a question, lined up across surveys by its code."""
    questions = [q for s in surveys for q in s.questions
                 if (getattr(q, "bank_code", None) or q.code) == code]
    if not questions:
        raise AnalysisRefused("No such question in these surveys.",
                              {"question": [f"No question coded {code}."]})
    kinds = {q.type for q in questions}
    if len(kinds) > 1 or next(iter(kinds)) not in TABULATED_TYPES:
        raise AnalysisRefused("Only single-choice, yes/no and rating questions are tabulated.",
                              {"question": [f"{code} is {', '.join(sorted(kinds))}."]})
    kind = questions[0].type
    rows: list[str] = []
    for q in questions:
        if kind == "single_choice":
            points = list(q.options)
        elif kind == "yes_no":
            points = list(YES_NO)
        else:
            points = [str(p) for p in range(q.scale_min, q.scale_max + 1)]
        rows += [p for p in points if p not in rows]
    return kind, rows


def in_wave_order(surveys: Sequence[Survey]) -> list[Survey]:
    """Surveys as waves of a bank question: by launch, unlaunched last."""
    return sorted(surveys, key=lambda s: (s.launched_at is None, s.launched_at, s.id))


def group_columns(surveys: Sequence[Survey], by: str) -> list[str]:
    if by == "survey":
        return [f"{s.id}: {s.title}" for s in surveys]
    if by == "wave":
        return [f"wave {n}" for n in range(1, len(surveys) + 1)]
    return list(CATEGORY_ORDER.get(by, ()))


def weighted_table(session: Session, surveys: Sequence[Survey], weights: dict[int, SurveyWeights],
                   *, question: str, by: str) -> Table:
    """Answers to one question by a group, each survey's respondents with their weights.

    Read from the analysis cells by survey, weighting cell, group and answer, then
    weighted in numpy: a million responses come back as a few thousand rows.
    """
    if by not in GROUPINGS:
        raise AnalysisRefused("Unknown grouping.", {"by": [f"Use one of {', '.join(GROUPINGS)}."]})
    _, rows = question_rows(surveys, question)
    ordered = in_wave_order(surveys) if by == "wave" else list(surveys)
    columns = group_columns(ordered, by)
    dims = sorted({d for w in weights.values() for d in w.dimensions})
    refresh_cells(session, [s.id for s in surveys])
    group_expr = [] if by in ("survey", "wave") else [_cell(by)]
    dim_columns = [_cell(d) for d in dims]
    statement = (
        select(AnalysisCell.survey_id, *dim_columns, *group_expr, AnalysisCell.value,
               func.sum(AnalysisCell.count))
        .where(AnalysisCell.survey_id.in_([s.id for s in surveys]),
               AnalysisCell.question == question)
        .group_by(AnalysisCell.survey_id, *dim_columns, *group_expr, AnalysisCell.value)
    )
    survey_column = {s.id: k for k, s in enumerate(ordered)}
    row_index = {r: k for k, r in enumerate(rows)}
    row_codes, column_codes, cell_weights, frequency = [], [], [], []
    for record in session.execute(statement):
        survey_id, *profile, value, count = record
        group = survey_column[survey_id] if not group_expr else _text(profile.pop())
        if value not in row_index:
            continue  # an empty answer, or an option since removed
        if group_expr:
            if group is None:
                continue
            if group not in columns:
                columns.append(group)
            group = columns.index(group)
        survey_weight = weights.get(survey_id)
        cell = tuple(_text(profile[dims.index(d)]) for d in survey_weight.dimensions) \
            if survey_weight else ()
        row_codes.append(row_index[value])
        column_codes.append(group)
        cell_weights.append(survey_weight.weight(cell) if survey_weight else 1.0)
        frequency.append(count)
    return crosstab(np.array(row_codes, dtype=np.int64), np.array(column_codes, dtype=np.int64),
                    np.array(cell_weights), rows=rows, columns=columns,
                    frequency=np.array(frequency, dtype=float))


# -- the merged dataset -----------------------------------------------------------


@dataclass
class Variable:
    """One column of the dataset and what it means: the codebook's line."""

    name: str
    label: str
    kind: str  # "string" or "number"
    values: dict[str, str] = field(default_factory=dict)  # category -> label, in order
    measure: str = "nominal"  # SPSS's level: "nominal", "ordinal" or "scale"


@dataclass
class Dataset:
    variables: list[Variable]
    rows: list[dict]
    weighting: list[dict]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


DECILE_LABELS = {str(d): f"{d}" + (" (most deprived)" if d == 1 else
                                    " (least deprived)" if d == 10 else "")
                 for d in range(1, 11)}
PROFILE_MEASURES = {"age_band": "ordinal", "deprivation_decile": "ordinal"}


def as_number(value) -> int | float | str | None:
    """An answer to a number or rating question as a number (an integer when whole).

    Text that is not a number is kept as it is, so nothing is lost."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


def _profile_variables(areas: Sequence[str], names: dict[str, str]) -> list[Variable]:
    variables = []
    for name in PROFILE_FIELDS:
        label = name.replace("_", " ").capitalize()
        if name == "deprivation_decile":
            variables.append(Variable(name, label, "number", DECILE_LABELS, "ordinal"))
        elif name == "area":  # the ward's name from the census file, its code without one
            variables.append(Variable(name, label, "string",
                                      {a: names.get(a, a) for a in areas}))
        else:
            variables.append(Variable(name, label, "string", dict(LABELS.get(name, {})),
                                      PROFILE_MEASURES.get(name, "nominal")))
    return variables


def merged_dataset(session: Session, surveys: Sequence[Survey], weights: dict[int, SurveyWeights],
                   *, form: str = "wide") -> Dataset:
    """One row per respondent per survey (wide), or per respondent per answer (long).

    Respondents get an id of their own in each survey; the member_ref never leaves.
    Answers to rating and number questions are numbers, every other answer text.
    """
    survey_ids = [s.id for s in surveys]
    responses = session.execute(
        select(Response.id, Response.survey_id, Invitation.profile)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(Response.survey_id.in_(survey_ids))
        .order_by(Response.survey_id, Response.id)).all()
    questions = _question_variables(surveys)
    numeric = {q.name for q in questions if q.kind == "number"}
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for response_id, code, value in session.execute(
            select(Answer.response_id, QUESTION_KEY, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .join(Question, Question.id == Answer.question_id)
            .where(Response.survey_id.in_(survey_ids))):
        answers[response_id][code] = as_number(value) if code in numeric else value

    extras = sorted({k for _, _, p in responses for k in (p.get("extra") or {})})
    areas = sorted({p.get("area") for _, _, p in responses if p.get("area")})
    variables = [
        Variable("survey_id", "Survey", "number"),
        Variable("respondent_id", "Respondent (within the survey)", "string"),
        *_profile_variables(areas, area_names(session)),
        *[Variable(f"extra_{k}", k.replace("_", " ").capitalize(), "string") for k in extras],
        Variable("weight", "Weight (raked to the population, mean 1 per survey)", "number",
                 measure="scale"),
    ]
    rows: list[dict] = []
    ordinal: dict[int, int] = defaultdict(int)
    for response_id, survey_id, profile in responses:
        ordinal[survey_id] += 1
        survey_weight = weights.get(survey_id)
        weight = None
        if survey_weight is not None and survey_weight.usable:
            weight = survey_weight.weight(tuple(_text(profile.get(d))
                                                for d in survey_weight.dimensions))
        row = {"survey_id": survey_id,
               "respondent_id": f"S{survey_id}-R{ordinal[survey_id]:06d}",
               **{f: profile.get(f) for f in PROFILE_FIELDS},
               "deprivation_decile": as_number(profile.get("deprivation_decile")),
               **{f"extra_{k}": (profile.get("extra") or {}).get(k) for k in extras},
               "weight": weight}
        given = answers.get(response_id, {})
        if form == "long":
            rows += [{**row, "question": code, "value": value} for code, value in given.items()]
        else:
            rows.append({**row, **{q.name: given.get(q.name) for q in questions}})
    themes = answer_themes(session, survey_ids)
    if form == "long":
        # Mixed answers in one column: SPSS keeps it as text, CSV and Excel as typed.
        variables += [Variable("question", "Question code", "string",
                               {q.name: q.label for q in questions}),
                      Variable("value", "Answer", "string")]
        if themes:
            variables.append(Variable("theme", "Theme of the free-text answer", "string"))
            for row in rows:
                row["theme"] = themes.get((row["survey_id"], row["respondent_id"],
                                           row["question"]))
    else:
        variables += questions
        themed = sorted({code for _, _, code in themes})
        variables += [Variable(f"{code}_theme", f"Theme of: {_label_of(questions, code)}",
                               "string") for code in themed]
        for row in rows:
            row.update({f"{code}_theme": themes.get((row["survey_id"], row["respondent_id"],
                                                     code)) for code in themed})
    return Dataset(variables, rows, [weights[s].summary() for s in survey_ids if s in weights])


def _label_of(questions: Sequence[Variable], code: str) -> str:
    return next((q.label for q in questions if q.name == code), code)


def answer_themes(session: Session, survey_ids: Sequence[int]) -> dict[tuple, str]:
    """Each themed free-text answer's theme (its label as it stands), by (survey, respondent
    id as the dataset numbers them, question code)."""
    by_answer: dict[int, str] = {}
    for label, answer_ids in session.execute(select(Theme.label, Theme.answer_ids)
                                             .where(Theme.survey_id.in_(list(survey_ids)))):
        by_answer.update({a: label for a in answer_ids})
    if not by_answer:
        return {}
    ordinal: dict[int, int] = defaultdict(int)
    numbered = {}
    for response_id, survey_id in session.execute(
            select(Response.id, Response.survey_id).where(Response.survey_id.in_(survey_ids))
            .order_by(Response.survey_id, Response.id)):
        ordinal[survey_id] += 1
        numbered[response_id] = (survey_id, f"S{survey_id}-R{ordinal[survey_id]:06d}")
    found = {}
    for answer_id, response_id, code in session.execute(
            select(Answer.id, Answer.response_id, QUESTION_KEY)
            .join(Response, Response.id == Answer.response_id)
            .join(Question, Question.id == Answer.question_id)
            .where(Response.survey_id.in_(list(survey_ids)), Question.type == "free_text")):
        if answer_id in by_answer and response_id in numbered:
            found[(*numbered[response_id], code)] = by_answer[answer_id]
    return found


def dataset_size(session: Session, survey_ids: Sequence[int], *, form: str) -> int:
    """How many rows `merged_dataset` would give, counted without building it: a response
    per row in the wide form, an answer per row in the long."""
    if form == "long":
        statement = (select(func.count()).select_from(Answer)
                     .join(Response, Response.id == Answer.response_id))
    else:
        statement = select(func.count()).select_from(Response)
    return session.scalar(statement.where(Response.survey_id.in_(list(survey_ids)))) or 0


def _question_variables(surveys: Sequence[Survey]) -> list[Variable]:
    found: dict[str, Variable] = {}
    for survey in surveys:
        for q in survey.questions:
            code = getattr(q, "bank_code", None) or q.code
            if code in found:
                continue
            if q.type == "single_choice":
                found[code] = Variable(code, q.text, "string", {o: o for o in q.options})
            elif q.type == "yes_no":
                found[code] = Variable(code, q.text, "string",
                                       dict(zip(YES_NO, YES_NO_WORDS["en"], strict=True)))
            elif q.type == "rating" and q.scale_min is not None:
                points = range(q.scale_min, q.scale_max + 1)
                labels = q.scale_labels or [str(p) for p in points]
                found[code] = Variable(code, q.text, "number",
                                       {str(p): str(label)
                                        for p, label in zip(points, labels, strict=False)},
                                       "ordinal")
            elif q.type == "number":
                found[code] = Variable(code, q.text, "number", measure="scale")
            else:
                found[code] = Variable(code, q.text, "string")
    return list(found.values())


# -- results for feedback ---------------------------------------------------------


def add_weighted_results(session: Session, survey: Survey, message: dict) -> dict:
    """A survey_closed payload with weighted percentages, means, weighting and representation.

    Without population targets the payload stays unweighted, as before; when the raking
    does not converge, its summary says so and no weighted figure is given.
    """
    weights = survey_weights(session, survey)
    if weights.result is None:
        return message
    result = weights.result
    failing = result.failing[0] if result.failing else None
    message["weighting"] = {
        "dimensions": weights.dimensions, "converged": result.converged,
        "effective_sample_size": round(result.effective_sample_size, 1),
        "design_effect": round(result.design_effect, 4),
        "failing": None if failing is None else {
            "dimension": failing.dimension, "category": failing.category,
            "nobody_answered": failing.achieved_share == 0}}
    message["representation"] = [
        {k: v for k, v in item.items() if k != "respondents"} for item in weights.representation]
    if not weights.usable:
        return message
    keys = {q.code: getattr(q, "bank_code", None) or q.code for q in survey.questions}
    for question in message["questions"]:
        if question["type"] not in TABULATED_TYPES or not question["base"]:
            continue
        table = weighted_table(session, [survey], {survey.id: weights},
                               question=keys.get(question["code"], question["code"]),
                               by="survey")
        total = float(table.weighted.sum())
        if total <= 0:
            continue
        shares = table.weighted[:, 0] / total
        question["weighted_percent"] = {row: round(100 * float(share), 2)
                                        for row, share in zip(table.rows, shares, strict=True)}
        if question["type"] == "rating":
            points = np.array([float(row) for row in table.rows])
            question["weighted_mean"] = round(float(points @ shares), 3)
    return message
