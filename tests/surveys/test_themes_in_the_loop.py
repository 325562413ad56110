"""Themes into the loop: closing a survey themes it, feedback's draft "you said" lists each
theme with its share and up to three quotes (none, and no count, for a theme under 10 answers,
by the one disclosure rule; no profile with a quote), and the merged dataset and its exports
carry each answer's theme."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from services.feedback.models import Report
from shared.db import new_session
from tests.scenario import bearer
from tests.staff import add_staff, sign_in
from tests.surveys.test_console_launch import text
from tests.surveys.test_themes import answered_survey, by_label, edit, run_themes


def small_theme(clients, pump, survey_id: int, analyst: str) -> str:
    """Leave one theme with 5 answers by moving the rest to another: its label."""
    found = run_themes(clients, pump, survey_id, analyst)
    small, other = found["themes"][-1], found["themes"][0]
    answers = clients["surveys"].get(
        f"/api/v1/surveys/{survey_id}/questions/comments/themes/{small['id']}/answers",
        headers=bearer(analyst)).json["answers"]
    found = edit(clients, survey_id, analyst, kind="rename", theme_ids=[small["id"]],
                 label="Few said this")
    for answer in answers[5:]:
        target = by_label(found)[other["label"]]["id"]
        found = edit(clients, survey_id, analyst, kind="move", theme_ids=[target],
                     answer_id=answer["id"])
    assert by_label(found)["Few said this"]["count"] == 5
    return "Few said this"


def test_the_draft_you_said_lists_themes_with_shares_and_quotes_small_ones_without(
        apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump)
    small = small_theme(clients, pump, survey_id, keys["council"]["analyst"])
    closed = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close",
                                     headers=bearer(keys["council"]["officer"]))
    assert closed.status_code == 200
    pump()  # feedback drafts the report; the worker themes the survey again and tells it
    with apps["feedback"].app_context(), new_session() as session:
        report = session.scalar(select(Report).where(Report.survey_id == survey_id))
        themes = {t["label"]: t for t in report.themes}
    assert themes[small]["count"] is None and themes[small]["quotes"] == []
    assert themes[small]["small"] is True
    shown = [t for t in themes.values() if t["count"] is not None]
    assert len(shown) >= 3 and all(1 <= len(t["quotes"]) <= 3 for t in shown)
    assert all(set(t) == {"question_code", "question_text", "label", "count", "small",
                          "share", "weighted", "quotes"} for t in themes.values())
    assert all(isinstance(q, str) for t in shown for q in t["quotes"])  # words, no profile
    hidden = [t for t in themes.values() if t["count"] is None]
    assert len(hidden) == 2  # the small one, and one more so the total does not give it away

    add_staff(apps, email="dana@council.example", agency="council", role="decision_owner")
    sign_in(apps, clients, "dana@council.example")
    preview = clients["feedback"].get(f"/reports/{report.id}/preview")
    words = text(preview)
    assert "What people said, by theme" in words
    assert f"{small} fewer than 10 (hidden to protect privacy) not shown No quotes" in words
    first = shown[0]
    assert (f"{first['label']} {first['count']} {round(100 * first['share'])}% "
            f"“{first['quotes'][0]}”") in words


def test_the_merged_dataset_and_its_exports_carry_each_answers_theme(apps, clients, pump):
    survey_id, keys = answered_survey(apps, clients, pump)
    analyst = keys["council"]["analyst"]
    found = run_themes(clients, pump, survey_id, analyst)
    labels = {t["label"] for t in found["themes"]}
    wide = clients["surveys"].get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                                  headers=bearer(analyst))
    assert wide.status_code == 200, wide.json
    rows = wide.json["rows"]
    assert len(rows) == 100 and {r["comments_theme"] for r in rows} == labels
    long = clients["surveys"].get(
        f"/api/v1/analysis/dataset?survey_ids={survey_id}&form=long", headers=bearer(analyst))
    themed = [r for r in long.json["rows"] if r["question"] == "comments"]
    assert {r["theme"] for r in themed} == labels
    assert {r["theme"] for r in long.json["rows"] if r["question"] != "comments"} == {None}
    exported = clients["surveys"].get(
        f"/api/v1/analysis/dataset?survey_ids={survey_id}&format=csv", headers=bearer(analyst))
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {r["comments_theme"] for r in table} == labels
