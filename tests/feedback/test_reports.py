"""Feedback reports: drafted once, completed with what was done and why, published with
small cells hidden."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from rq import Queue
from rq.serializers import JSONSerializer

from services.feedback.disclosure import suppress_counts
from shared.messages import build_message
from tests.scenario import bearer, setup_agencies


def closed_survey(pump, counts: dict[str, int], sponsors=("council", "police")) -> None:
    respondents = sum(counts.values())
    envelope = build_message("feedback.survey_closed", {
        "survey_id": 7, "title": "Library opening hours", "purpose": "Set library hours",
        "scope": "Hours can change; the budget cannot", "sponsors": list(sponsors),
        "invited": 100, "closed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "decision": {"description": "Library hours", "owner": "Libraries board",
                     "due": date(2027, 1, 1)},
        "questions": [{"code": "hours", "text": "Which hours suit you?", "type": "single_choice",
                       "base": respondents, "counts": counts, "mean": None, "comments": 0}],
        "respondent_refs": [uuid.uuid4() for _ in range(respondents)]})
    Queue("feedback", connection=pump.redis, serializer=JSONSerializer).enqueue(
        "services.feedback.jobs.survey_closed", json.loads(json.dumps(envelope)))
    pump()


def test_publishing_without_why_is_refused_and_nobody_is_told(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    closed_survey(pump, {"Mornings": 30, "Evenings": 20})
    officer = bearer(keys["police"]["officer"])
    report = clients["feedback"].get("/api/v1/reports", headers=officer).json[0]
    clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=officer,
                              json={"we_did": "We are opening on Sunday mornings."})
    response = clients["feedback"].post(f"/api/v1/reports/{report['id']}/publish",
                                        headers=officer)
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"why", "decided_on"}
    assert clients["feedback"].get("/api/v1/public/reports").json == []
    assert pump.relay("feedback") == 0


def test_reports_are_visible_to_their_sponsors_only(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    closed_survey(pump, {"Mornings": 30, "Evenings": 20})
    assert len(clients["feedback"].get("/api/v1/reports",
                                       headers=bearer(keys["council"]["analyst"])).json) == 1
    college = bearer(keys["college"]["officer"])
    assert clients["feedback"].get("/api/v1/reports", headers=college).json == []
    assert clients["feedback"].get("/api/v1/reports/1", headers=college).status_code == 404


def test_published_figures_never_show_a_small_cell(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    closed_survey(pump, {"Mornings": 40, "Evenings": 25, "Weekends": 4})
    officer = bearer(keys["council"]["officer"])
    report = clients["feedback"].get("/api/v1/reports", headers=officer).json[0]
    assert report["results"][0]["counts"] == {"Mornings": 40, "Evenings": None, "Weekends": None}
    clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=officer, json={
        "we_did": "Libraries open earlier on weekdays.", "why": "Mornings were most popular.",
        "decided_on": "2026-11-20"})
    assert clients["feedback"].post(f"/api/v1/reports/{report['id']}/publish",
                                    headers=officer).status_code == 200
    page = clients["feedback"].get(f"/you-said-we-did/{report['id']}")
    assert page.status_code == 200
    assert b">40<" in page.data and b">25<" not in page.data and b">4<" not in page.data
    assert page.data.count(b"fewer than 10") == 2
    public = clients["feedback"].get("/api/v1/public/reports").json[0]
    assert public["results"][0]["counts"]["Weekends"] is None


def test_one_hidden_cell_takes_the_next_smallest_with_it():
    assert suppress_counts({"A": 50, "B": 3, "C": 20, "D": 0}, 10) == {
        "A": 50, "B": None, "C": None, "D": 0}
    assert suppress_counts({"A": 50, "B": 3, "C": 4}, 10) == {"A": 50, "B": None, "C": None}
    assert suppress_counts({"A": 50, "B": 10}, 10) == {"A": 50, "B": 10}


def test_draft_reports_have_no_public_page(apps, clients, pump):
    setup_agencies(apps, pump)
    closed_survey(pump, {"Mornings": 30, "Evenings": 20})
    assert clients["feedback"].get("/you-said-we-did/1").status_code == 404


def test_an_erased_member_is_not_told_the_outcome(apps, clients, pump, smtp_server):
    from tests.scenario import add_members
    from tests.surveys.test_privacy_and_targets import send

    keys = setup_agencies(apps, pump)
    members = add_members(clients["panel"], keys["council"]["panel_manager"], 3)
    envelope = build_message("feedback.survey_closed", {
        "survey_id": 9, "title": "Bins", "purpose": "Set bin days", "scope": "Days can change",
        "sponsors": ["council"], "invited": 3, "closed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "decision": {"description": "Bin days", "owner": "Waste board", "due": date(2027, 1, 1)},
        "questions": [], "respondent_refs": [m["member_ref"] for m in members]})
    Queue("feedback", connection=pump.redis, serializer=JSONSerializer).enqueue(
        "services.feedback.jobs.survey_closed", json.loads(json.dumps(envelope)))
    pump()
    send(pump, "feedback.member_erased", {"member_ref": members[0]["member_ref"]})
    officer = bearer(keys["council"]["officer"])
    report = clients["feedback"].get("/api/v1/reports", headers=officer).json[0]
    clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=officer, json={
        "we_did": "Bins are collected on Mondays.", "why": "Most people asked for Mondays.",
        "decided_on": "2026-11-20"})
    published = clients["feedback"].post(f"/api/v1/reports/{report['id']}/publish",
                                         headers=officer)
    assert published.json["respondents_to_tell"] == 2
    pump()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        m["email"] for m in members[1:])
