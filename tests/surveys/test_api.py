"""The surveys API: drafts validated field by field, launch rules, and sponsor-only visibility."""

from __future__ import annotations

from tests.scenario import accept_invitations, bearer, setup_agencies, survey_payload
from tests.surveys.steps import sent


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
    created = clients["surveys"].post(
        "/api/v1/surveys", headers=bearer(keys["council"]["officer"]),
        json=survey_payload(sponsors=(("council", "70"), ("police", "30")))).json
    accept_invitations(clients["surveys"], keys, created)
    survey_id = created["id"]
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


def draft_with(clients, keys, lead: str, *sponsors: tuple[str, str]) -> dict:
    created = clients["surveys"].post("/api/v1/surveys", headers=bearer(keys[lead]["officer"]),
                                      json=survey_payload(sponsors=sponsors))
    assert created.status_code == 201, created.json
    return created.json


def answer(clients, keys, agency: str, invitation_id: int, accept: bool, role="officer"):
    return clients["surveys"].post(f"/api/v1/surveys/invitations/{invitation_id}/answer",
                                   headers=bearer(keys[agency][role]), json={"accept": accept})


def test_an_agency_named_as_sponsor_is_only_invited_and_the_survey_cannot_launch_until_it_answers(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    # Health's officer names the council as a 99 % sponsor of health's survey.
    draft = draft_with(clients, keys, "health", ("health", "1.00"), ("council", "99.00"))
    health, council = bearer(keys["health"]["officer"]), bearer(keys["council"]["officer"])
    assert [(s["agency"], s["cost_share"]) for s in draft["sponsors"]] == [("health", "1.00")]
    [invitation] = draft["invitations"]
    assert (invitation["agency"], invitation["proposed_cost_share"], invitation["status"]) == (
        "council", "99.00", "pending")
    # Not a sponsor: the council cannot read it, and it is not drawn on.
    assert clients["surveys"].get(f"/api/v1/surveys/{draft['id']}",
                                  headers=council).status_code == 404
    launch = clients["surveys"].post(f"/api/v1/surveys/{draft['id']}/launch", headers=health)
    assert launch.status_code == 422
    assert launch.json["errors"]["json"]["sponsors"] == [
        "Riverside Council has not yet accepted or declined the invitation to co-sponsor "
        "this survey."]
    assert sent(apps["surveys"], "panel.draw_sample") == []
    # What the council sees, to decide.
    [seen] = clients["surveys"].get("/api/v1/surveys/invitations", headers=council).json
    assert (seen["title"], seen["purpose"], seen["lead_agency"], seen["proposed_cost_share"],
            seen["status"]) == (draft["title"], draft["purpose"], "health", "99.00", "pending")
    assert clients["surveys"].get("/api/v1/surveys/invitations", headers=health).json == []

    assert answer(clients, keys, "council", invitation["id"], True, role="analyst"
                  ).status_code == 403
    assert answer(clients, keys, "police", invitation["id"], True).status_code == 404
    declined = answer(clients, keys, "council", invitation["id"], False)
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert answer(clients, keys, "council", invitation["id"], True).status_code == 409
    survey = clients["surveys"].get(f"/api/v1/surveys/{draft['id']}", headers=health).json
    assert [(s["agency"], s["cost_share"]) for s in survey["sponsors"]] == [("health", "100.00")]
    assert clients["surveys"].post(f"/api/v1/surveys/{draft['id']}/launch",
                                   headers=health).status_code == 202
    assert [m["sponsors"] for m in sent(apps["surveys"], "panel.draw_sample")] == [["health"]]
    assert clients["surveys"].get(f"/api/v1/surveys/{draft['id']}",
                                  headers=council).status_code == 404


def test_an_invited_agency_that_accepts_sponsors_at_the_proposed_share(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    draft = draft_with(clients, keys, "council", ("council", "70"), ("police", "30"))
    accepted = answer(clients, keys, "police", draft["invitations"][0]["id"], True)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    police = bearer(keys["police"]["officer"])
    survey = clients["surveys"].get(f"/api/v1/surveys/{draft['id']}", headers=police)
    assert [(s["agency"], s["cost_share"]) for s in survey.json["sponsors"]] == [
        ("council", "70.00"), ("police", "30.00")]
    assert clients["surveys"].post(f"/api/v1/surveys/{draft['id']}/launch",
                                   headers=bearer(keys["council"]["officer"])).status_code == 202
    assert [m["sponsors"] for m in sent(apps["surveys"], "panel.draw_sample")] == [
        ["council", "police"]]


def test_only_the_lead_agency_launches_and_closes(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    draft = draft_with(clients, keys, "council", ("council", "70"), ("police", "30"))
    accept_invitations(clients["surveys"], keys, draft)
    survey = f"/api/v1/surveys/{draft['id']}"
    for role in ("officer", "admin"):
        refused = clients["surveys"].post(f"{survey}/launch", headers=bearer(keys["police"][role]))
        assert refused.status_code == 403
        assert refused.json["message"] == ("Only the lead agency, Riverside Council, launches "
                                           "this survey; your agency co-sponsors it.")
    assert clients["surveys"].post(f"{survey}/launch",
                                   headers=bearer(keys["college"]["officer"])).status_code == 404
    assert clients["surveys"].post(f"{survey}/launch",
                                   headers=bearer(keys["council"]["admin"])).status_code == 202
    refused = clients["surveys"].post(f"{survey}/close", headers=bearer(keys["police"]["officer"]))
    assert refused.status_code == 403 and "closes this survey" in refused.json["message"]
    assert clients["surveys"].post(f"{survey}/close",
                                   headers=bearer(keys["college"]["admin"])).status_code == 404
    assert clients["surveys"].post(f"{survey}/close",
                                   headers=bearer(keys["council"]["officer"])).status_code == 200


def test_the_demo_survey_is_launched_with_the_sponsors_that_accepted(apps):
    from datetime import date

    from services.surveys.demo import seed_demo
    from shared.db import new_session

    app = apps["surveys"]
    with app.app_context(), new_session() as session:
        seeded = seed_demo(session, app.extensions["bus"], date.today())
    [drawn] = sent(app, "panel.draw_sample")
    assert drawn["survey_id"] == seeded["survey_id"]
    assert sorted(drawn["sponsors"]) == ["council", "health", "police"]
