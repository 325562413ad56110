"""Analysis for analysts: merged data across sponsored surveys, weights, disclosed tables, audit."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import select

from services.surveys import pulls
from services.surveys.analysis import (
    dataset_size,
    merged_dataset,
    readable_surveys,
    survey_weights,
)
from services.surveys.keys import issue_key
from services.surveys.lifecycle import close_survey
from services.surveys.models import (
    Agency,
    Answer,
    AuditLog,
    Invitation,
    Outbox,
    PopulationTarget,
    Question,
    Response,
    Survey,
    SurveySponsor,
)
from shared.db import new_session
from tests.scenario import AGENCIES, ROLES, bearer

AREAS = ("E05000001", "E05000002")
OPTIONS = ["Street lighting", "Police patrols", "Welfare services"]


def agency_keys(app) -> dict[str, dict[str, str]]:
    """Every test agency with a key per role, held by surveys (no other service needed)."""
    with app.app_context(), new_session() as session:
        session.add_all(Agency(slug=slug, name=name) for slug, name in AGENCIES.items())
        session.flush()
        keys = {slug: {role: issue_key(session, app.extensions["bus"], agency=slug, role=role)
                       for role in ROLES} for slug in AGENCIES}
        session.commit()
    return keys


def profile_of(index: int) -> dict:
    # Respondents skewed to women and the old, spread over two areas; the first of each
    # twelve is a young man, so the first row is predictable.
    spread = random.Random(index)
    first = index % 12 == 0
    return {"age_band": "25-34" if first else spread.choice(["25-34", "45-54", "65-74", "65-74"]),
            "gender": "male" if first else spread.choice(["female", "female", "male"]),
            "ethnicity": "white", "disability": "not_disabled",
            "area": spread.choice(AREAS), "deprivation_decile": 1 + index % 10,
            "tenure": "owner", "extra": {"carer": "yes" if index % 5 == 0 else "no"}}


def seed_survey(app, *, sponsors=("council",), respondents: int = 60, title="Town centre",
                priority_code: str = "priority", launched: datetime | None = None,
                status: str = "closed") -> int:
    """A closed survey with respondents and answers, written straight to surveys' database."""
    with app.app_context(), new_session() as session:
        survey = Survey(
            title=title, summary="s", purpose="p", scope="s", lead_agency=sponsors[0],
            decision="Allocate the budget", decision_owner="Board",
            decision_due=date(2026, 12, 31), sample_size=respondents, status=status,
            launched_at=launched or datetime(2026, 1, 1, tzinfo=UTC),
            sponsors=[SurveySponsor(agency=a, cost_share=100 / len(sponsors)) for a in sponsors],
            questions=[
                Question(position=0, code="feel_safe", type="rating", text="How safe?",
                         scale_min=1, scale_max=5,
                         scale_labels=["Very unsafe", "Unsafe", "Neither", "Safe", "Very safe"]),
                Question(position=1, code=priority_code, type="single_choice",
                         text="What should we spend most on?", options=OPTIONS),
                Question(position=2, code="comments", type="free_text", text="Anything else?",
                         required=False),
            ])
        session.add(survey)
        session.flush()
        rating, choice, comments = survey.questions
        for index in range(respondents):
            invitation = Invitation(survey_id=survey.id, member_ref=str(uuid.uuid4()),
                                    token=uuid.uuid4().hex, channel="email",
                                    profile=profile_of(index))
            session.add(invitation)
            session.flush()
            session.add(Response(survey_id=survey.id, invitation_id=invitation.id, answers=[
                Answer(question_id=rating.id, value=str(1 + index % 5)),
                Answer(question_id=choice.id,
                       value=OPTIONS[0] if index % 3 == 0 else OPTIONS[1 + index % 2]),
                Answer(question_id=comments.id, value="Café lighting" if index == 0 else ""),
            ]))
        session.commit()
        return survey.id


def seed_targets(app) -> None:
    """Census margins: each area half men, ages in thirds; the second area twice the first."""
    margins = {"gender": {"female": 1 / 2, "male": 1 / 2},
               "age_band": {"25-34": 1 / 3, "45-54": 1 / 3, "65-74": 1 / 3},
               "ethnicity": {"white": 1.0}}
    with app.app_context(), new_session() as session:
        session.add_all(
            PopulationTarget(vintage="2021", area=area, dimension=dimension, category=category,
                             population=size * share)
            for area, size in zip(AREAS, (999.0, 1998.0), strict=True)
            for dimension, categories in margins.items()
            for category, share in categories.items())
        session.commit()


def test_an_analyst_cannot_pull_a_survey_their_agency_does_not_sponsor(surveys_app):
    keys = agency_keys(surveys_app)
    council_only = seed_survey(surveys_app, sponsors=("council",))
    joint = seed_survey(surveys_app, sponsors=("council", "police"))
    client = surveys_app.test_client()
    police = bearer(keys["police"]["analyst"])
    for path in (f"/api/v1/analysis/dataset?survey_ids={council_only}",
                 f"/api/v1/analysis/dataset?survey_ids={joint},{council_only}",
                 f"/api/v1/analysis/tables?survey_ids={council_only}&question=priority",
                 f"/api/v1/analysis/weights?survey_ids={council_only}"):
        response = client.get(path, headers=police)
        assert response.status_code == 404, path
        assert response.json["errors"]["query"]["survey_ids"] == [
            f"No survey {council_only} sponsored by your agency."]
    refused = client.post("/api/v1/analysis/exports", headers=police,
                          json={"survey_ids": [council_only], "format": "csv"})
    assert refused.status_code == 404
    # A joint survey is theirs to analyse too.
    assert client.get(f"/api/v1/analysis/dataset?survey_ids={joint}",
                      headers=police).status_code == 200
    with surveys_app.app_context(), new_session() as session:
        assert [(a.agency, a.survey_ids) for a in session.scalars(select(AuditLog))] == [
            ("police", [joint])]


def test_respondent_level_data_is_for_analysts_only(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app)
    client = surveys_app.test_client()
    for role in ("officer", "admin", "panel_manager"):
        response = client.get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                              headers=bearer(keys["council"][role]))
        assert response.status_code == 403
    # Aggregated, disclosed tables are open to every role of a sponsor.
    table = client.get(f"/api/v1/analysis/tables?survey_ids={survey_id}&question=priority",
                       headers=bearer(keys["council"]["officer"]))
    assert table.status_code == 200


def test_merged_dataset_lines_questions_up_across_surveys_with_no_member_ref(surveys_app):
    keys = agency_keys(surveys_app)
    first = seed_survey(surveys_app, respondents=12)
    second = seed_survey(surveys_app, respondents=8, title="Parks")
    client = surveys_app.test_client()
    response = client.get(f"/api/v1/analysis/dataset?survey_ids={first},{second}",
                          headers=bearer(keys["council"]["analyst"]))
    assert response.status_code == 200
    body = response.json
    rows = body["rows"]
    assert len(rows) == 20
    assert [r["survey_id"] for r in rows] == [first] * 12 + [second] * 8
    assert rows[0]["respondent_id"] == f"S{first}-R000001"
    assert rows[12]["respondent_id"] == f"S{second}-R000001"
    assert {r["priority"] for r in rows} <= set(OPTIONS)
    assert rows[0]["age_band"] == "25-34" and rows[0]["extra_carer"] == "yes"
    assert [v["name"] for v in body["variables"]][-3:] == ["feel_safe", "priority", "comments"]
    with surveys_app.app_context(), new_session() as session:
        refs = set(session.scalars(select(Invitation.member_ref)))
        audit = session.scalars(select(AuditLog)).all()
    text = json.dumps(body)
    assert not any(ref in text for ref in refs)
    assert [(a.agency, a.role, a.action, a.survey_ids, a.rows) for a in audit] == [
        ("council", "analyst", "dataset.json", [first, second], 20)]
    assert audit[0].key_prefix == keys["council"]["analyst"][:9]


def test_long_form_has_a_row_per_answer(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=4)
    response = surveys_app.test_client().get(
        f"/api/v1/analysis/dataset?survey_ids={survey_id}&form=long",
        headers=bearer(keys["council"]["analyst"]))
    rows = response.json["rows"]
    assert len(rows) == 12
    assert {(r["respondent_id"], r["question"]) for r in rows} >= {
        (f"S{survey_id}-R000001", "feel_safe"), (f"S{survey_id}-R000004", "priority")}


def test_weights_reach_the_population_of_the_survey_areas(surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=120)
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    summary = client.get(f"/api/v1/analysis/weights?survey_ids={survey_id}",
                         headers=analyst).json["surveys"][0]
    assert summary["weighted"] and summary["converged"], summary
    assert summary["dimensions"] == ["age_band", "gender", "ethnicity", "area"]
    assert summary["design_effect"] > 1 and summary["effective_sample_size"] < 120
    rows = client.get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                      headers=analyst).json["rows"]
    weights = np.array([r["weight"] for r in rows])
    men = np.array([r["gender"] == "male" for r in rows])
    second_area = np.array([r["area"] == AREAS[1] for r in rows])
    assert abs(weights[men].sum() / weights.sum() - 0.5) < 1e-6
    assert abs(weights[second_area].sum() / weights.sum() - 2 / 3) < 1e-6
    assert abs(weights.mean() - 1) < 1e-9


def test_without_targets_results_are_unweighted_and_say_why(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=20)
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    summary = client.get(f"/api/v1/analysis/weights?survey_ids={survey_id}",
                         headers=analyst).json["surveys"][0]
    assert not summary["weighted"]
    assert summary["reason"] == "No population targets cover this survey's areas."
    rows = client.get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                      headers=analyst).json["rows"]
    assert {r["weight"] for r in rows} == {None}


def test_a_table_by_profile_group_hides_small_cells_and_keeps_weighted_and_unweighted(
        surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=120)
    response = surveys_app.test_client().get(
        f"/api/v1/analysis/tables?survey_ids={survey_id}&question=priority&by=gender",
        headers=bearer(keys["council"]["officer"]))
    assert response.status_code == 200
    table = response.json["table"]
    assert table["columns"] == ["female", "male", "other", "all"]
    cells = {(c["row"], c["column"]): c for c in table["cells"]}
    bases = {b["column"]: b for b in table["bases"]}
    assert bases["all"]["base"] == 120
    # Nobody is of another gender: a zero is shown, not hidden, and has no percentages.
    assert bases["other"]["base"] == 0 and not bases["other"]["suppressed"]
    assert cells[(OPTIONS[0], "other")]["count"] == 0
    assert cells[(OPTIONS[0], "other")]["percent"] is None
    everyone = [cells[(o, "all")] for o in OPTIONS]
    assert sum(c["count"] for c in everyone) == 120
    assert abs(sum(c["percent"] for c in everyone) - 100) < 0.05
    assert all(c["ci_low"] < c["percent"] < c["ci_high"] for c in everyone)
    assert all(c["unweighted_percent"] is not None for c in everyone)
    # With weights the percentages move, the unweighted ones stay as counted.
    assert any(abs(c["percent"] - c["unweighted_percent"]) > 0.5 for c in everyone)
    assert response.json["weighting"][0]["converged"]


def test_a_question_repeated_across_waves_is_tabulated_by_wave(surveys_app):
    keys = agency_keys(surveys_app)
    later = seed_survey(surveys_app, respondents=30, title="Wave 2",
                        launched=datetime(2026, 6, 1, tzinfo=UTC))
    earlier = seed_survey(surveys_app, respondents=40, title="Wave 1",
                          launched=datetime(2026, 1, 1, tzinfo=UTC))
    response = surveys_app.test_client().get(
        f"/api/v1/analysis/tables?survey_ids={later},{earlier}&question=feel_safe&by=wave",
        headers=bearer(keys["council"]["analyst"]))
    table = response.json["table"]
    assert table["rows"] == ["1", "2", "3", "4", "5"]
    bases = {b["column"]: b["base"] for b in table["bases"]}
    assert bases == {"wave 1": 40, "wave 2": 30, "all": 70}


def test_free_text_is_not_tabulated_and_the_reason_is_given(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=5)
    response = surveys_app.test_client().get(
        f"/api/v1/analysis/tables?survey_ids={survey_id}&question=comments",
        headers=bearer(keys["council"]["analyst"]))
    assert response.status_code == 422
    assert response.json["errors"]["query"]["question"] == ["comments is free_text."]
    missing = surveys_app.test_client().get(
        "/api/v1/analysis/tables?question=priority", headers=bearer(keys["council"]["analyst"]))
    assert missing.status_code == 422
    assert "survey_ids" in missing.json["errors"]["query"]


def test_tables_count_responses_that_arrive_after_an_earlier_table(surveys_app):
    keys = agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=20)
    path = f"/api/v1/analysis/tables?survey_ids={survey_id}&question=priority"
    client = surveys_app.test_client()
    officer = bearer(keys["council"]["officer"])
    assert client.get(path, headers=officer).json["table"]["bases"][-1]["base"] == 20
    with surveys_app.app_context(), new_session() as session:
        question = session.scalar(select(Question).where(Question.code == "priority"))
        invitation = Invitation(survey_id=survey_id, member_ref=str(uuid.uuid4()),
                                token=uuid.uuid4().hex, channel="sms", profile=profile_of(99))
        session.add(invitation)
        session.flush()
        session.add(Response(survey_id=survey_id, invitation_id=invitation.id, answers=[
            Answer(question_id=question.id, value=OPTIONS[2])]))
        session.commit()
    assert client.get(path, headers=officer).json["table"]["bases"][-1]["base"] == 21


def closed_payload(app, survey_id: int) -> dict:
    with app.app_context(), new_session() as session:
        close_survey(session, app.extensions["bus"], session.get(Survey, survey_id))
        session.commit()
        body = session.scalar(select(Outbox.body).where(Outbox.type == "feedback.survey_closed"))
    return json.loads(body)["payload"]


def test_a_closing_survey_sends_feedback_weighted_results_when_targets_exist(surveys_app):
    agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=120, status="fieldwork")
    payload = closed_payload(surveys_app, survey_id)
    assert payload["weighting"]["converged"] is True
    assert payload["weighting"]["dimensions"] == ["age_band", "gender", "ethnicity", "area"]
    assert payload["weighting"]["design_effect"] > 1
    priority = next(q for q in payload["questions"] if q["code"] == "priority")
    assert set(priority["weighted_percent"]) == set(OPTIONS)
    assert abs(sum(priority["weighted_percent"].values()) - 100) < 0.05
    rating = next(q for q in payload["questions"] if q["code"] == "feel_safe")
    assert 1 <= rating["weighted_mean"] <= 5 and rating["weighted_mean"] != rating["mean"]
    men = next(r for r in payload["representation"]
               if (r["dimension"], r["category"]) == ("gender", "male"))
    assert men["population_share"] == 0.5 and men["ratio"] < 1


def test_a_closing_survey_without_targets_sends_unweighted_results_as_before(surveys_app):
    agency_keys(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=15, status="fieldwork")
    payload = closed_payload(surveys_app, survey_id)
    assert payload.get("weighting") is None and payload.get("representation", []) == []
    assert all(q.get("weighted_percent") is None for q in payload["questions"])
    priority = next(q for q in payload["questions"] if q["code"] == "priority")
    assert priority["base"] == 15


def set_profiles(app, survey_id: int, how_many: int, **values) -> None:
    """Give the first `how_many` respondents of a survey these profile values."""
    with app.app_context(), new_session() as session:
        invitations = session.scalars(select(Invitation).where(Invitation.survey_id == survey_id)
                                      .order_by(Invitation.id).limit(how_many)).all()
        for invitation in invitations:
            invitation.profile = {**invitation.profile, **values}
        session.commit()


def weighting_summary(app, key: str, survey_id: int) -> dict:
    response = app.test_client().get(f"/api/v1/analysis/weights?survey_ids={survey_id}",
                                     headers=bearer(key))
    assert response.status_code == 200, response.json
    return response.json["surveys"][0]


def add_asian_targets(app) -> None:
    with app.app_context(), new_session() as session:
        session.add_all(PopulationTarget(vintage="2021", area=area, dimension="ethnicity",
                                         category="asian", population=100.0) for area in AREAS)
        session.commit()


def test_a_margin_nobody_answered_from_stops_weighting_and_is_named(surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    add_asian_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60)
    summary = weighting_summary(surveys_app, keys["council"]["analyst"], survey_id)
    # No respondent is Asian: the margin cannot be reached, and the summary says so.
    assert not summary["weighted"] and not summary["converged"]
    assert "No respondent is in ethnicity = asian" in summary["reason"]
    ethnicity = {r["category"]: r for r in summary["representation"]
                 if r["dimension"] == "ethnicity"}
    # Nobody is a zero, not a small cell: shown, and White with it.
    assert not ethnicity["asian"]["suppressed"] and ethnicity["asian"]["respondent_share"] == 0
    assert ethnicity["white"]["respondent_share"] == 1


def test_a_group_too_small_to_publish_is_hidden_with_a_complement(surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    add_asian_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60)
    set_profiles(surveys_app, survey_id, 4, ethnicity="asian")
    summary = weighting_summary(surveys_app, keys["council"]["analyst"], survey_id)
    assert summary["weighted"]
    ethnicity = {r["category"]: r for r in summary["representation"]
                 if r["dimension"] == "ethnicity"}
    # Asian (4 respondents) is hidden; so is White, or it would give Asian away as 1 - share.
    assert ethnicity["asian"]["suppressed"] and ethnicity["asian"]["respondent_share"] is None
    assert ethnicity["white"]["suppressed"] and ethnicity["white"]["ratio"] is None
    assert ethnicity["asian"]["population_share"] > 0  # the census figure is no secret
    gender = [r for r in summary["representation"] if r["dimension"] == "gender"]
    assert not any(r["suppressed"] for r in gender)


def test_respondents_of_a_gender_the_census_lacks_are_weighted_by_the_other_margins(
        surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60)
    set_profiles(surveys_app, survey_id, 3, gender="other")
    summary = weighting_summary(surveys_app, keys["council"]["analyst"], survey_id)
    assert summary["weighted"] and summary["converged"] and summary["reason"] is None
    assert "gender" in summary["dimensions"]
    [outside] = summary["outside_margins"]
    assert (outside["dimension"], outside["category"]) == ("gender", "other")
    # Three is under the threshold: their number is not published, what was done is.
    assert outside["respondents"] is None
    assert outside["note"].startswith("Fewer than 10 respondents with gender “Another gender”"
                                      " are in no gender margin")
    rows = surveys_app.test_client().get(f"/api/v1/analysis/dataset?survey_ids={survey_id}",
                                         headers=bearer(keys["council"]["analyst"])).json["rows"]
    weights = {r["respondent_id"]: r["weight"] for r in rows}
    assert None not in weights.values()
    inside = [r for r in rows if r["gender"] != "other"]
    women = sum(r["weight"] for r in inside if r["gender"] == "female")
    assert abs(women / sum(r["weight"] for r in inside) - 0.5) < 1e-5
    # Their weights come from the other margins: ages are reached over everyone.
    total = sum(weights.values())
    for band in ("25-34", "45-54", "65-74"):
        share = sum(r["weight"] for r in rows if r["age_band"] == band) / total
        assert abs(share - 1 / 3) < 1e-5
    assert all(r["weight"] > 0 for r in rows if r["gender"] == "other")


def test_an_analyst_may_weight_by_chosen_dimensions_only(surveys_app):
    keys = agency_keys(surveys_app)
    seed_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60)
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    summary = client.get(f"/api/v1/analysis/weights?survey_ids={survey_id}&dimensions=area",
                         headers=analyst).json["surveys"][0]
    assert summary["dimensions"] == ["area"] and summary["converged"]
    assert summary["respondents"] == 60
    rows = client.get(f"/api/v1/analysis/dataset?survey_ids={survey_id}&dimensions=area",
                      headers=analyst).json["rows"]
    weights = np.array([r["weight"] for r in rows])
    second_area = np.array([r["area"] == AREAS[1] for r in rows])
    assert abs(weights[second_area].sum() / weights.sum() - 2 / 3) < 1e-6
    refused = client.get(f"/api/v1/analysis/weights?survey_ids={survey_id}&dimensions=height",
                         headers=analyst)
    assert refused.status_code == 422
    assert "dimensions" in refused.json["errors"]["query"]


def test_a_closing_survey_that_cannot_be_weighted_tells_feedback_why_and_no_weighted_figure(
        surveys_app):
    agency_keys(surveys_app)
    seed_targets(surveys_app)
    add_asian_targets(surveys_app)
    survey_id = seed_survey(surveys_app, respondents=60, status="fieldwork")
    payload = closed_payload(surveys_app, survey_id)
    assert payload["weighting"]["converged"] is False
    assert payload["weighting"]["failing"] == {"dimension": "ethnicity", "category": "asian",
                                               "nobody_answered": True}
    assert all(q.get("weighted_percent") is None for q in payload["questions"])


def test_a_dataset_too_big_to_wait_for_is_refused_from_its_count_in_either_form(
        surveys_app, monkeypatch):
    monkeypatch.setattr(pulls, "INLINE_EXPORT_ROWS", 11)
    keys = agency_keys(surveys_app)
    wide = seed_survey(surveys_app, respondents=12)
    long = seed_survey(surveys_app, respondents=4, title="Parks")  # 3 answers each: 12 rows
    client = surveys_app.test_client()
    analyst = bearer(keys["council"]["analyst"])
    for query in (f"survey_ids={wide}", f"survey_ids={long}&form=long&format=csv"):
        refused = client.get(f"/api/v1/analysis/dataset?{query}", headers=analyst)
        assert refused.status_code == 413, query
        assert refused.json["message"].startswith("Too many rows to build while you wait")
        assert refused.json["errors"] == {"query": {"survey_ids": ["12 rows."]}}
    assert client.get(f"/api/v1/analysis/dataset?survey_ids={long}",
                      headers=analyst).status_code == 200  # 4 rows in the wide form
    with surveys_app.app_context(), new_session() as session:
        assert [a.action for a in session.scalars(select(AuditLog))] == ["dataset.json"]
        surveys = readable_surveys(session, agency="council", survey_ids=[wide, long])
        weights = {s.id: survey_weights(session, s) for s in surveys}
        for form in ("wide", "long"):
            built = merged_dataset(session, surveys, weights, form=form)
            assert dataset_size(session, [wide, long], form=form) == len(built.rows)
