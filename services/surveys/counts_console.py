"""A survey's own results in the console: its answers counted question by question, as
GET /api/v1/surveys/<id>/results counts them (lifecycle.sponsored_results), for any staff of
a sponsor; shown the way every published figure is, through the one small-cell rule
(shared/disclosure.py), each answer's share as a chart beside its table, answers by their
words. Weighted figures with intervals are the analyst's pages (analysis_console.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.surveys.lifecycle import sponsored_results
from services.surveys.models import Survey
from services.surveys.queries import sponsored_survey
from services.surveys.questions import choices
from services.surveys.results_charts import Chart, share_bars
from shared.disclosure import is_small, suppress_line


@dataclass
class AnswerCount:
    label: str
    count: int | None  # None: hidden
    percent: float | None


@dataclass
class QuestionCounts:
    code: str
    text: str
    kind: str
    base: int | None  # None: hidden
    answers: list[AnswerCount]
    mean: float | None
    comments: int | None
    chart: Chart | None


@dataclass
class SurveyCounts:
    survey: Survey
    invited: int
    responded: int
    questions: list[QuestionCounts]
    threshold: int

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.responded / self.invited, 1) if self.invited else None


def _counted(question, found: dict, threshold: int) -> QuestionCounts:
    base = found["base"]
    words = dict(choices(question))
    shown, total = suppress_line(found["counts"], threshold, total=base) if found["counts"] \
        else ({}, None if is_small(base, threshold) else base)
    answers = [AnswerCount(words.get(value, value), count,
                           None if count is None or not base else round(100 * count / base, 1))
               for value, count in shown.items()]
    # A hidden answer is named so on the axis: an empty bar would read as nobody.
    chart = share_bars(f"{question.text}: % of those answering",
                       [a.label + ("" if a.count is not None else f" (fewer than {threshold})")
                        for a in answers], [a.percent for a in answers]) if answers else None
    small = total is None
    return QuestionCounts(question.code, question.text, question.type, total, answers,
                          None if small else found["mean"],
                          None if is_small(found["comments"], threshold) else found["comments"],
                          chart)


def survey_counts(session: Session, *, agency: str, survey_id: int,
                  threshold: int) -> SurveyCounts:
    """A survey the agency sponsors, its answers counted, small cells hidden."""
    found = sponsored_results(session, agency=agency, survey_id=survey_id)
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    by_code = {q["code"]: q for q in found["questions"]}
    return SurveyCounts(survey, found["invited"], found["responded"],
                        [_counted(q, by_code[q.code], threshold) for q in survey.questions],
                        threshold)
