"""The surveys API: drafts validated field by field, launch rules, and sponsor-only visibility."""

from __future__ import annotations

from tests.scenario import bearer, setup_agencies, survey_payload


def test_cost_shares_must_add_up_to_100(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    response = clients["surveys"].post(
        "/api/v1/surveys", headers=bearer(keys["council"]["officer"]),
        json=survey_payload(sponsors=(("council", "60.00"), ("police", "30.00"))))
    assert response.status_code == 422
    assert "add up to 100" in response.json["errors"]["json"]["sponsors"][0]


def test_question_shapes_are_checked_and_named(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = survey_payload()
    payload["questions"][0]["scale"] = None
    payload["questions"][1]["options"] = ["Only one"]
    response = clients["surveys"].post("/api/v1/surveys", json=payload,
                                       headers=bearer(keys["council"]["officer"]))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["questions"]
    assert "scale" in errors["0"] and "options" in errors["1"]


def test_lead_agency_must_sponsor_and_sponsors_must_exist(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    officer = bearer(keys["council"]["officer"])
    not_ours = clients["surveys"].post("/api/v1/surveys", headers=officer,
                                       json=survey_payload(sponsors=(("police", "100"),)))
    assert not_ours.status_code == 422 and "sponsors" in not_ours.json["errors"]["json"]
    unknown = clients["surveys"].post(
        "/api/v1/surveys", headers=officer,
        json=survey_payload(sponsors=(("council", "50"), ("fire", "50"))))
    assert unknown.status_code == 422
    assert unknown.json["errors"]["json"]["sponsors"] == ["No agency called fire."]


def test_launch_is_blocked_without_purpose_scope_and_decision(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    officer = bearer(keys["council"]["officer"])
    draft = clients["surveys"].post("/api/v1/surveys", headers=officer,
                                    json=survey_payload(purpose=None, scope=None, decision=None))
    assert draft.status_code == 201 and draft.json["status"] == "draft"
    launch = clients["surveys"].post(f"/api/v1/surveys/{draft.json['id']}/launch",
                                     headers=officer)
    assert launch.status_code == 422
    assert set(launch.json["errors"]["json"]) == {"purpose", "scope", "decision"}
    survey = clients["surveys"].get(f"/api/v1/surveys/{draft.json['id']}", headers=officer)
    assert survey.json["status"] == "draft"


def test_co_sponsor_sees_the_survey_and_results_and_a_non_sponsor_gets_404(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = clients["surveys"].post(
        "/api/v1/surveys", headers=bearer(keys["council"]["officer"]),
        json=survey_payload(sponsors=(("council", "70"), ("police", "30")))).json["id"]
    police = bearer(keys["police"]["analyst"])
    assert clients["surveys"].get(f"/api/v1/surveys/{survey_id}", headers=police).status_code \
        == 200
    assert clients["surveys"].get(f"/api/v1/surveys/{survey_id}/results",
                                  headers=police).status_code == 200
    assert [s["id"] for s in clients["surveys"].get("/api/v1/surveys", headers=police).json] \
        == [survey_id]
    college = bearer(keys["college"]["admin"])
    for path in (f"/api/v1/surveys/{survey_id}", f"/api/v1/surveys/{survey_id}/results"):
        assert clients["surveys"].get(path, headers=college).status_code == 404
    for action in ("launch", "close"):
        assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/{action}",
                                       headers=college).status_code == 404
    assert clients["surveys"].get("/api/v1/surveys", headers=college).json == []


def test_analysts_cannot_draft_or_launch(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    analyst = bearer(keys["council"]["analyst"])
    assert clients["surveys"].post("/api/v1/surveys", headers=analyst,
                                   json=survey_payload()).status_code == 403
