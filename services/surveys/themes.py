"""Themes of a survey's free-text answers: runs in the worker with progress, the themes as
they stand (the latest run with every edit applied), steering them, and what feedback and
the dataset are given of them.

Only a survey in fieldwork or closed is themed; each use case answers for one agency (a
survey it does not sponsor does not exist) and owns its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.surveys.analysis import survey_weights
from services.surveys.models import (
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
    Theme,
    ThemeEdit,
    ThemeRun,
)
from services.surveys.queries import sponsored_survey
from services.surveys.theme_rules import Applied, Working, apply_edits, summarise
from services.surveys.theming import find_themes, split_in_two
from shared.bus import Bus, utcnow
from shared.db import new_session
from shared.disclosure import is_small, suppress_counts
from shared.errors import NotFound, RuleBroken
from shared.input_guard import id_from_text
from shared.service import bus
from shared.statuses import ExportStatus, SurveyStatus, may_move

THEMED_STATUSES = (SurveyStatus.FIELDWORK, SurveyStatus.CLOSED)
QUOTES_IN_REPORT = 3
LABEL_MAX = 200


class ThemesRefused(RuleBroken):
    """A theme request that breaks a rule: 422 with the field and why, or 409."""


# -- reading -----------------------------------------------------------------


def free_text_question(session: Session, survey: Survey, code: str) -> Question:
    question = next((q for q in survey.questions if q.code == code and q.type == "free_text"),
                    None)
    if question is None:
        raise NotFound("No such free-text question.")
    return question


@dataclass(frozen=True)
class QuestionThemes:
    survey: Survey
    question: Question
    run: ThemeRun | None  # the latest run, whatever its state
    themes: list[Theme]
    texts: dict[int, str]  # answer id -> text, for the quotes and answers shown
    weighted: bool
    lapsed: int = 0


def latest_run(session: Session, question_id: int, done: bool = False) -> ThemeRun | None:
    statement = select(ThemeRun).where(ThemeRun.question_id == question_id)
    if done:
        statement = statement.where(ThemeRun.status == ExportStatus.DONE)
    return session.scalar(statement.order_by(ThemeRun.id.desc()).limit(1))


def question_themes(session: Session, *, agency: str, survey_id: int, code: str
                    ) -> QuestionThemes:
    """A free-text question's themes as they stand, for an agency sponsoring the survey."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    question = free_text_question(session, survey, code)
    themes = _themes_of(session, question.id)
    wanted = {a for t in themes for a in t.quote_ids}
    texts = dict(session.execute(select(Answer.id, Answer.value)
                                 .where(Answer.id.in_(wanted))).all()) if wanted else {}
    return QuestionThemes(survey, question, latest_run(session, question.id), themes, texts,
                          any(t.weighted_share is not None for t in themes))


def _themes_of(session: Session, question_id: int) -> list[Theme]:
    return list(session.scalars(select(Theme).where(Theme.question_id == question_id)
                                .order_by(Theme.position)))


def theme_answers(session: Session, *, agency: str, survey_id: int, code: str,
                  theme_id: int) -> tuple[QuestionThemes, Theme, list[tuple[int, str]]]:
    """One theme's answers (id, text), strongest first, for moving or marking them."""
    found = question_themes(session, agency=agency, survey_id=survey_id, code=code)
    theme = _theme(found.themes, theme_id)
    texts = dict(session.execute(select(Answer.id, Answer.value)
                                 .where(Answer.id.in_(theme.answer_ids))).all())
    return found, theme, [(a, texts[a]) for a in theme.answer_ids if a in texts]


def _theme(themes: Sequence[Theme], theme_id: int) -> Theme:
    theme = next((t for t in themes if t.id == theme_id), None)
    if theme is None:
        raise NotFound("No such theme: it may have changed since the page was shown.")
    return theme


def run_view(run: ThemeRun | None, code: str) -> dict | None:
    if run is None:
        return None
    return {"id": run.id, "question_code": code, "status": run.status,
            "progress": run.progress, "answers": run.answers, "error": run.error,
            "created_at": run.created_at, "finished_at": run.finished_at}


def theme_view(theme: Theme, texts: dict[int, str]) -> dict:
    return {"id": theme.id, "label": theme.label, "words": theme.words,
            "language": theme.language, "count": theme.count, "share": theme.share,
            "weighted_share": theme.weighted_share,
            "quotes": [{"id": a, "text": texts[a]} for a in theme.quote_ids if a in texts]}


def themes_view(found: QuestionThemes) -> dict:
    """A question's themes as the API answers them (staff see every count and quote)."""
    return {"survey_id": found.survey.id, "question_code": found.question.code,
            "question_text": found.question.text,
            "run": run_view(found.run, found.question.code),
            "themes": [theme_view(t, found.texts) for t in found.themes]}


def answers_view(found: QuestionThemes, theme: Theme, answers: list[tuple[int, str]]) -> dict:
    return {"theme": theme_view(theme, found.texts),
            "answers": [{"id": a, "text": text} for a, text in answers]}


def runs_view(runs: Sequence[ThemeRun]) -> dict:
    return {"runs": [run_view(r, "") for r in runs]}


# -- running -----------------------------------------------------------------


def start_runs(session: Session, bus: Bus, *, agency: str, survey_id: int, actor: str = "",
               code: str | None = None) -> list[ThemeRun]:
    """Queue a theme run for each free-text question of the survey (or the one named) and
    commit; the worker finds the themes and reports progress on each run."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    if survey.status not in THEMED_STATUSES:
        raise ThemesRefused("Themes are found once a survey is in fieldwork or closed.",
                            {"status": [survey.status]}, status=409)
    questions = [free_text_question(session, survey, code)] if code else \
        [q for q in survey.questions if q.type == "free_text"]
    if not questions:
        raise ThemesRefused("This survey has no free-text question.", {"survey_id": [
            "no free-text question"]}, status=409)
    runs = _queue(session, bus, survey, questions, actor)
    session.commit()
    return runs


def queue_theme_runs(session: Session, bus: Bus, survey: Survey) -> list[ThemeRun]:
    """At close: a run for each free-text question, so the "you said" gets its themes; the
    caller commits."""
    return _queue(session, bus, survey, [q for q in survey.questions if q.type == "free_text"],
                  "closing")


def _queue(session: Session, bus: Bus, survey: Survey, questions: Sequence[Question],
           actor: str) -> list[ThemeRun]:
    runs = [ThemeRun(survey_id=survey.id, question_id=q.id, actor=actor) for q in questions]
    session.add_all(runs)
    session.flush()
    for run in runs:
        bus.send(session, "surveys.find_themes", {"run_id": run.id})
    return runs


def run_job(envelope: dict) -> bool:
    """The surveys.find_themes job: claim the run once, find the themes with progress (in
    short transactions the pages read meanwhile), then store them with the edits applied."""
    with new_session() as session:
        bus().handle(session, "surveys.find_themes", envelope, _claim)
    run_id = envelope["payload"]["run_id"]
    with new_session() as session:
        run = session.get(ThemeRun, run_id)
        if run is None or run.status != ExportStatus.RUNNING:
            return False
        answers = _answers(session, run.question_id)
        session.rollback()
        found = find_themes([a[1] for a in answers], [a[2] for a in answers],
                            progress=_progress_reporter(run_id))
        ids = [a[0] for a in answers]
    with new_session() as session:
        run = session.get(ThemeRun, run_id)
        if not may_move(run.status, ExportStatus.DONE, ExportStatus):
            return False
        run.found = {"themes": [{"words": t.words, "language": t.language,
                                 "answers": [ids[m] for m in t.members]} for t in found.themes],
                     "unthemed": [ids[m] for m in found.unthemed],
                     "chosen_from": {str(k): round(v, 4) for k, v in found.chosen_from.items()}}
        run.answers, run.status, run.progress = len(ids), ExportStatus.DONE, 100
        run.finished_at = utcnow()
        survey = session.get(Survey, run.survey_id)
        materialise(session, survey, run)
        tell_feedback(session, bus(), survey)
        session.commit()
    return True


def _claim(session: Session, payload: dict) -> None:
    run = session.get(ThemeRun, payload["run_id"])
    if run is not None and may_move(run.status, ExportStatus.RUNNING, ExportStatus):
        run.status = ExportStatus.RUNNING


def _progress_reporter(run_id: int):
    last = [-1]

    def report(fraction: float) -> None:
        percent = int(5 + 90 * fraction)
        if percent - last[0] < 10:
            return
        last[0] = percent
        with new_session() as session:
            run = session.get(ThemeRun, run_id)
            if run is not None and run.status == ExportStatus.RUNNING:
                run.progress = percent
                session.commit()

    return report


def _answers(session: Session, question_id: int) -> list[tuple[int, str, str]]:
    """(answer id, text, language) of every answer to the question, in answer order."""
    return list(session.execute(
        select(Answer.id, Answer.value, Invitation.language)
        .join(Response, Response.id == Answer.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(Answer.question_id == question_id).order_by(Answer.id)).all())


# -- the themes as they stand --------------------------------------------------------------


def _edits(session: Session, question_id: int) -> list[dict]:
    return [{"id": e.id, "kind": e.kind, "detail": e.detail} for e in session.scalars(
        select(ThemeEdit).where(ThemeEdit.question_id == question_id).order_by(ThemeEdit.id))]


def _answer_weights(session: Session, survey: Survey, answer_ids: Sequence[int]
                    ) -> dict[int, float] | None:
    weights = survey_weights(session, survey)
    if not weights.usable:
        return None
    found = {}
    for start in range(0, len(answer_ids), 1000):
        for answer_id, profile in session.execute(
                select(Answer.id, Invitation.profile)
                .join(Response, Response.id == Answer.response_id)
                .join(Invitation, Invitation.id == Response.invitation_id)
                .where(Answer.id.in_(answer_ids[start:start + 1000]))):
            cell = tuple(None if profile.get(d) is None else str(profile.get(d))
                         for d in weights.dimensions)
            found[answer_id] = weights.weight(cell)
    return found


def applied_themes(session: Session, run: ThemeRun) -> tuple[Applied, dict[int, str]]:
    """The run's themes with every edit of its question applied, and the answers' texts."""
    answers = {a[0]: (a[1], a[2]) for a in _answers(session, run.question_id)}
    found = run.found or {}
    themes = [Working(t["words"], [a for a in t["answers"] if a in answers], t["language"])
              for t in found.get("themes", [])]
    unthemed = [a for a in found.get("unthemed", []) if a in answers]
    if unthemed:
        themes.append(Working([], unthemed, label="Other comments"))

    def split(ids: list[int]) -> list[tuple[list[str], list[int]]]:
        parts = split_in_two([answers[a][0] for a in ids], [answers[a][1] for a in ids])
        return [(p.words, [ids[m] for m in p.members]) for p in parts]

    return apply_edits(themes, _edits(session, run.question_id), split), \
        {a: text for a, (text, _) in answers.items()}


def materialise(session: Session, survey: Survey, run: ThemeRun) -> int:
    """Replace the question's themes by the run's with every edit applied; the number of
    edits that no longer found their theme."""
    applied, texts = applied_themes(session, run)
    ids = [a for t in applied.themes for a in t.answers]
    summaries = summarise(applied, texts, _answer_weights(session, survey, ids))
    # A theme keeps its id while it keeps most of its answers, so the addresses of pages and
    # of the API stay good across edits and runs.
    old = {t.id: t for t in _themes_of(session, run.question_id)}
    kept = _same_themes(old, summaries)
    for position, summary in enumerate(summaries):
        theme = old.pop(kept[position]) if position in kept else Theme(
            survey_id=survey.id, question_id=run.question_id)
        theme.run_id, theme.position, theme.label = run.id, position, summary.label[:LABEL_MAX]
        theme.words, theme.language, theme.answer_ids = summary.words, summary.language, \
            summary.answers
        theme.count, theme.share, theme.weighted_share = summary.count, summary.share, \
            summary.weighted_share
        theme.quote_ids = summary.quotes
        session.add(theme)
    if old:
        session.execute(delete(Theme).where(Theme.id.in_(list(old))))
    session.flush()
    return len(applied.lapsed)


def _same_themes(old: dict[int, Theme], summaries) -> dict[int, int]:
    """New theme position -> the id of the old theme it is: the one it shares most answers
    with, if that is most of the old theme's answers (each old theme matched once)."""
    pairs = []
    for position, summary in enumerate(summaries):
        answers = set(summary.answers)
        for theme_id, theme in old.items():
            shared = len(answers.intersection(theme.answer_ids))
            if shared * 2 > len(theme.answer_ids):
                pairs.append((-shared, position, theme_id))
    kept: dict[int, int] = {}
    for _, position, theme_id in sorted(pairs):
        if position not in kept and theme_id not in kept.values():
            kept[position] = theme_id
    return kept


# -- steering ------------------------------------------------------------------


def edit_themes(session: Session, bus: Bus, *, agency: str, survey_id: int, code: str,
                kind: str, theme_ids: Sequence[int] = (), answer_id: int | None = None,
                label: str | None = None, actor: str = "", threshold: int | None = None
                ) -> QuestionThemes:
    """Rename, merge or split themes, move an answer to another theme, or mark an answer not
    to be quoted; kept as a rule applied after every run, applied now, and committed."""
    found = question_themes(session, agency=agency, survey_id=survey_id, code=code)
    run = latest_run(session, found.question.id, done=True)
    if run is None:
        raise ThemesRefused("Find the themes first.", {"themes": ["no run yet"]}, status=409)
    themes = [_theme(found.themes, i) for i in theme_ids]
    detail = _detail(kind, themes, answer_id, label, found.themes)
    session.add(ThemeEdit(survey_id=survey_id, question_id=found.question.id, kind=kind,
                          detail=detail, actor=actor))
    session.flush()
    materialise(session, found.survey, run)
    tell_feedback(session, bus, found.survey, threshold)
    session.commit()
    return question_themes(session, agency=agency, survey_id=survey_id, code=code)


def _detail(kind: str, themes: list[Theme], answer_id: int | None, label: str | None,
            every: Sequence[Theme]) -> dict:
    needs = {"rename": 1, "split": 1, "merge": 2, "move": 1, "no_quote": 0}
    if kind not in needs:
        raise ThemesRefused("Not an edit of themes.", {"kind": [f"one of {', '.join(needs)}"]})
    if (len(themes) < needs[kind]) or (kind != "merge" and len(themes) > needs[kind]):
        field = "theme_ids"
        raise ThemesRefused("Choose the themes to change.",
                            {field: [f"{kind} takes {'two or more' if kind == 'merge' else 'one'}"
                                     " theme" + ("s" if kind == "merge" else "")]}, status=422)
    label = (label or "").strip()
    if kind == "rename" and not 0 < len(label) <= LABEL_MAX:
        raise ThemesRefused("Give the theme a name.",
                            {"label": [f"1 to {LABEL_MAX} characters"]}, status=422)
    if kind in ("move", "no_quote"):
        if answer_id is None or not any(answer_id in t.answer_ids for t in every):
            raise ThemesRefused("Choose one of the question's answers.",
                                {"answer_id": ["not an answer to this question"]}, status=422)
    anchors = [list(t.answer_ids) for t in themes]
    if kind == "merge":
        return {"anchors": anchors, **({"label": label} if label else {})}
    if kind == "no_quote":
        return {"answer_id": answer_id}
    detail = {"anchor": anchors[0]}
    return {**detail, "label": label} if kind == "rename" else \
        {**detail, "answer_id": answer_id} if kind == "move" else detail


# -- what leaves: feedback's "you said", the dataset -----------------------------------------


def tell_feedback(session: Session, bus: Bus, survey: Survey, threshold: int | None = None
                  ) -> None:
    """A closed survey's themes as they now stand, to feedback's draft report."""
    if survey.status == SurveyStatus.CLOSED:
        bus.send(session, "feedback.survey_themes", {
            "survey_id": survey.id, "themes": feedback_themes(session, survey, threshold)})


def feedback_themes(session: Session, survey: Survey, threshold: int | None = None
                    ) -> list[dict]:
    """Each free-text question's themes for feedback's "you said": label, count and share
    (weighted when the survey is), up to three quotes, with no profile. A count the one
    disclosure rule hides is sent as None, and its theme's share and quotes with it."""
    if threshold is None:
        threshold = current_app.config["SMALL_CELL_THRESHOLD"]
    sent = []
    for question in survey.questions:
        if question.type != "free_text":
            continue
        themes = _themes_of(session, question.id)
        shown = suppress_counts({t.id: t.count for t in themes}, threshold,
                                total=sum(t.count for t in themes))
        wanted = {a for t in themes if shown[t.id] is not None for a in t.quote_ids}
        texts = dict(session.execute(select(Answer.id, Answer.value)
                                     .where(Answer.id.in_(wanted))).all()) if wanted else {}
        for theme in themes:
            visible = shown[theme.id] is not None
            sent.append({
                "question_code": question.code, "question_text": question.text,
                "label": theme.label, "count": theme.count if visible else None,
                "small": is_small(theme.count, threshold),
                "share": (theme.weighted_share if theme.weighted_share is not None
                          else theme.share) if visible else None,
                "weighted": theme.weighted_share is not None,
                "quotes": [texts[a] for a in theme.quote_ids if a in texts][:QUOTES_IN_REPORT]
                if visible else []})
    return sent


# -- the console's pages -------------------------------------------------------------------

EDIT_DONE = {"rename": "Theme renamed.", "merge": "Themes merged.", "split": "Theme split in two.",
             "move": "Answer moved.", "no_quote": "That answer will not be quoted."}


@dataclass(frozen=True)
class ThemesPage:
    found: QuestionThemes
    chart: object | None
    problems: dict
    questions: list[tuple[str, str]]  # the survey's free-text questions: (code, text)

    @property
    def items(self) -> list[tuple[str, str]]:
        """The themes as a form's choices: (id, label)."""
        return [(str(t.id), t.label) for t in self.found.themes]

    @property
    def working(self) -> bool:
        return self.found.run is not None and self.found.run.status in (
            ExportStatus.QUEUED, ExportStatus.RUNNING)


def themes_page(session: Session, *, agency: str, survey_id: int, code: str,
                problems: dict | None) -> ThemesPage:
    """What the themes page shows: the themes, their chart, the run's progress, and the
    problems of an edit the page sent (`problems` shaped as the console's forms need)."""
    from services.surveys.theme_charts import shares_chart

    found = question_themes(session, agency=agency, survey_id=survey_id, code=code)
    chart = shares_chart(found.question.text, [t.label for t in found.themes],
                         [t.weighted_share if found.weighted else t.share
                          for t in found.themes], found.weighted) if found.themes else None
    return ThemesPage(found, chart, problems or {"by_field": {}, "summary": []},
                      [(q.code, q.text) for q in found.survey.questions
                       if q.type == "free_text"])


def read_edit_form(form) -> tuple[dict, dict | None]:
    """An edit as the themes pages post it, or the problems with it by field."""
    kind = form.get("kind", "")
    ids = [i for i in map(id_from_text, form.getlist("theme_ids")) if i is not None]
    edit = {"kind": kind, "theme_ids": ids, "label": form.get("label", "").strip()[:LABEL_MAX],
            "answer_id": id_from_text(form.get("answer_id"))}
    by_field = {}
    if kind not in EDIT_DONE:
        by_field["kind"] = "Choose what to change."
    elif kind == "merge" and len(ids) < 2:
        by_field["theme_ids"] = "Choose two or more themes to merge."
    elif kind == "rename" and not edit["label"]:
        by_field["label"] = "Give the theme a name."
    if not by_field:
        return edit, None
    return edit, {"by_field": {field: [text] for field, text in by_field.items()},
                  "summary": list(by_field.items())}
