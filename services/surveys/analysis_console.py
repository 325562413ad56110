"""The analyst's console pages as use cases: the same pulls as the analysis API (pulls.py), by
the same agency rules and audit log, shaped for pages: names instead of codes, groups in their
natural order, small cells as "fewer than" the threshold, a chart beside every table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys import pulls, queries
from services.surveys.analysis import (
    TABULATED_TYPES,
    WEIGHTING_DIMENSIONS,
    in_wave_order,
    readable_surveys,
)
from services.surveys.models import Agency, BankQuestion, Question, Survey
from services.surveys.population import area_names
from services.surveys.pulls import Puller
from services.surveys.queries import surveys_asking
from services.surveys.question_bank import as_question
from services.surveys.questions import YES_NO, YES_NO_WORDS
from services.surveys.results_charts import (
    Chart,
    interval_bars,
    margins_chart,
    trend_line,
)
from services.surveys.tables import TOTAL
from services.surveys.weighting import DEFAULT_CAP
from shared.profile import PROFILE_DIMENSIONS, category_label, dimension_label

# Surveys with answers to analyse: in fieldwork (results so far) or closed.
ANALYSED_STATUSES = ("fieldwork", "closed")
# What a table's answers are broken down by, as the API's `by` takes it ("wave" is the trends').
GROUPS = [("survey", "Survey"), *[(d, dimension_label(d)) for d in PROFILE_DIMENSIONS]]


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


# -- choosing surveys and dimensions ---------------------------------------------------


@dataclass
class Chooser:
    """What an agency may analyse: its surveys (led or co-sponsored) and the dimensions."""

    surveys: list[Survey]
    agency_names: dict[str, str]
    dimensions: list[tuple[str, str]]
    default_dimensions: tuple[str, ...] = WEIGHTING_DIMENSIONS

    def items(self) -> list[tuple[int, str]]:
        """Each survey as a checkbox's label: its title, status and sponsors by name."""
        return [(s.id, f"{s.title} ({s.status}; " + ", ".join(
            self.agency_names.get(a, a) for a in sorted(p.agency for p in s.sponsors)) + ")")
            for s in self.surveys]


def chooser(session: Session, *, agency: str) -> Chooser:
    surveys = [s for s in session.scalars(queries.sponsored_surveys(agency))
               if s.status in ANALYSED_STATUSES]
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    return Chooser(surveys, names, [(d, dimension_label(d)) for d in PROFILE_DIMENSIONS])


# -- the weighting report --------------------------------------------------------------


@dataclass
class MarginRow:
    label: str
    population: float | None
    before: float | None
    after: float | None
    suppressed: bool


@dataclass
class DimensionMargins:
    dimension: str
    label: str
    rows: list[MarginRow]
    chart: Chart


@dataclass
class SurveyWeighting:
    survey_id: int
    title: str
    summary: dict
    margins: list[DimensionMargins]
    failing: str | None  # the margin that fails, in words


@dataclass
class WeightingReport:
    surveys: list[SurveyWeighting]
    questions: list[tuple[str, str]]  # (code, text) of the questions a table can show
    threshold: int
    groups: list[tuple[str, str]] = field(default_factory=lambda: GROUPS)


def _margins(summary: dict, names: dict[str, str]) -> list[DimensionMargins]:
    found = []
    for dimension in dict.fromkeys(item["dimension"] for item in summary["representation"]):
        items = [i for i in summary["representation"] if i["dimension"] == dimension]
        rows = [MarginRow(category_label(dimension, i["category"], names),
                          _percent(i["population_share"]), _percent(i["respondent_share"]),
                          _percent(i["weighted_share"]), i["suppressed"]) for i in items]
        label = dimension_label(dimension)
        chart = margins_chart(
            f"{label}: population, respondents and weighted respondents (%)",
            [r.label for r in rows],
            [("Population", [r.population for r in rows]),
             ("Respondents (before weighting)", [r.before for r in rows]),
             ("Weighted respondents (after)", [r.after for r in rows])])
        found.append(DimensionMargins(dimension, label, rows, chart))
    return found


def _failing(summary: dict, names: dict[str, str]) -> str | None:
    failing = summary.get("failing") or []
    if not failing:
        return None
    worst = failing[0]
    return (f"{dimension_label(worst['dimension'])}: "
            f"{category_label(worst['dimension'], worst['category'], names)}")


def tabulated_questions(surveys: Sequence[Survey]) -> list[tuple[str, str]]:
    """The questions a table can show, lined up across surveys by their bank code."""
    found: dict[str, str] = {}
    for survey in surveys:
        for q in survey.questions:
            if q.type in TABULATED_TYPES:
                found.setdefault(q.bank_code or q.code, q.text)
    return list(found.items())


def weighting_report(session: Session, *, who: Puller, survey_ids: Sequence[int],
                     dimensions: Sequence[str], threshold: int) -> WeightingReport:
    """How each chosen survey weights to its population, as the API's weights answer it."""
    found = pulls.weighting(session, who=who, survey_ids=survey_ids, dimensions=dimensions,
                            cap=DEFAULT_CAP, threshold=threshold)
    surveys = readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    titles = {s.id: s.title for s in surveys}
    names = area_names(session)
    return WeightingReport(
        [SurveyWeighting(w["survey_id"], titles[w["survey_id"]], w, _margins(w, names),
                         _failing(w, names)) for w in found["surveys"]],
        tabulated_questions(surveys), threshold)


# -- tables ------------------------------------------------------------------------


@dataclass
class Cell:
    percent: float | None
    low: float | None
    high: float | None
    count: int | None
    suppressed: bool


@dataclass
class TableReport:
    question: str
    text: str
    by: str
    by_label: str
    rows: list[str]  # answer labels
    columns: list[str]  # group labels, the last for everyone
    cells: list[list[Cell]]  # rows x columns
    bases: list[int | None]
    effective_bases: list[float | None]
    charts: list[Chart]
    weighting: list[dict]
    threshold: int
    questions: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=lambda: GROUPS)
    bank: bool = False  # a question bank question, with a trend across surveys and waves


def answer_labels(surveys: Sequence[Survey], code: str) -> tuple[str, dict[str, str]]:
    """A question's text and the words of each of its answers (a rating's point with its
    label), from the first survey asking it."""
    question: Question = next(q for s in surveys for q in s.questions
                              if (q.bank_code or q.code) == code)
    if question.type == "yes_no":
        return question.text, dict(zip(YES_NO, YES_NO_WORDS["en"], strict=True))
    if question.type == "rating" and question.scale_min is not None:
        points = range(question.scale_min, question.scale_max + 1)
        labels = list(question.scale_labels or [])
        return question.text, {str(p): f"{p} – {labels[i]}" if i < len(labels) else str(p)
                               for i, p in enumerate(points)}
    return question.text, {o: o for o in question.options or []}


def wave_label(number: int, survey: Survey) -> str:
    """A wave as a chart's axis and a table name it: its number, survey and month of launch."""
    launched = f", {survey.launched_at:%b %Y}" if survey.launched_at else ""
    return f"Wave {number}: {survey.title}{launched}"


def _column_labels(columns: Sequence[str], by: str, surveys: Sequence[Survey],
                   names: dict[str, str]) -> list[str]:
    ordered = in_wave_order(surveys) if by == "wave" else list(surveys)
    labels = []
    for index, column in enumerate(columns):
        if column == TOTAL:
            labels.append("Everyone")
        elif by == "wave":
            labels.append(wave_label(index + 1, ordered[index]))
        elif by == "survey":
            labels.append(ordered[index].title)
        else:
            labels.append(category_label(by, column, names))
    return labels


def table_report(session: Session, *, who: Puller, survey_ids: Sequence[int],
                 dimensions: Sequence[str], question: str, by: str,
                 threshold: int) -> TableReport:
    """A question by a group, as the API's tables answer it, with a chart per answer."""
    report = _table(session, who=who, survey_ids=survey_ids, dimensions=dimensions,
                    question=question, by=by, threshold=threshold)
    report.charts = [
        interval_bars(f"{row}: weighted % by {report.by_label.lower()}, with 95% intervals",
                      report.columns, [(c.percent, c.low, c.high) for c in line])
        for row, line in zip(report.rows, report.cells, strict=True)]
    return report


def _table(session: Session, *, who: Puller, survey_ids: Sequence[int],
           dimensions: Sequence[str], question: str, by: str, threshold: int) -> TableReport:
    found = pulls.table(session, who=who, survey_ids=survey_ids, dimensions=dimensions,
                        cap=DEFAULT_CAP, question=question, by=by, threshold=threshold)
    surveys = readable_surveys(session, agency=who.agency, survey_ids=survey_ids)
    table = found["table"]
    text, words = answer_labels(surveys, question)
    columns = _column_labels(table["columns"], by, surveys, area_names(session))
    # A group nobody in it answered (a base of 0, never hidden) is left out.
    shown = [j for j, b in enumerate(table["bases"]) if b["base"] != 0]
    columns = [columns[j] for j in shown]
    bases = [table["bases"][j] for j in shown]
    by_cell = {(c["row"], c["column"]): c for c in table["cells"]}
    cells = [[Cell(c["percent"], c["ci_low"], c["ci_high"], c["count"], c["suppressed"])
              for c in (by_cell[(row, table["columns"][j])] for j in shown)]
             for row in table["rows"]]
    by_label = "Survey" if by == "survey" else "Wave" if by == "wave" else dimension_label(by)
    return TableReport(question, text, by, by_label, [words.get(r, r) for r in table["rows"]],
                       columns, cells, [b["base"] for b in bases],
                       [b["effective_base"] for b in bases], [], found["weighting"], threshold,
                       tabulated_questions(surveys),
                       bank=any(q.bank_code == question for s in surveys for q in s.questions))


# -- a bank question's trend ---------------------------------------------------------


@dataclass
class TrendReport:
    """A bank question's answers wave by wave across the agency's surveys asking it: a line
    chart per answer beside its table, or why there is none."""

    code: str
    text: str
    surveys: list[Survey]  # in wave order
    table: TableReport | None
    charts: list[Chart]
    reason: str | None = None


def bank_trend(session: Session, *, who: Puller, code: str, threshold: int) -> TrendReport:
    """One bank question across every survey of the agency asking it (the surveys the
    question bank's results API reads), weighted, as waves in order of launch."""
    surveys = in_wave_order([s for s in surveys_asking(session, agency=who.agency, code=code)
                             if s.status in ANALYSED_STATUSES])
    question = as_question(session.get(BankQuestion, code))
    if question.type not in TABULATED_TYPES:
        return TrendReport(code, question.text, surveys, None, [], "Only single-choice, yes or "
                           "no and rating questions are shown as trends.")
    if not surveys:
        return TrendReport(code, question.text, [], None, [], "None of your agency’s surveys in "
                           "fieldwork or closed asks this question yet.")
    table = _table(session, who=who, survey_ids=[s.id for s in surveys], dimensions=(),
                   question=code, by="wave", threshold=threshold)
    waves = [i for i, c in enumerate(table.columns) if c != "Everyone"]
    table.columns = ["All waves together" if c == "Everyone" else c for c in table.columns]
    # A hidden point is named on the axis, so a break in the line is never a mystery.
    charts = [trend_line(f"{row}: weighted % wave by wave, with 95% intervals",
                         [table.columns[i].split(":")[0] + (
                             f" (fewer than {threshold})" if line[i].suppressed else "")
                          for i in waves],
                         [(line[i].percent, line[i].low, line[i].high) for i in waves])
              for row, line in zip(table.rows, table.cells, strict=True)]
    return TrendReport(code, question.text, surveys, table, charts)
