"""Defining surveys: question types and rules, the question bank, joint surveys, overlap, keys."""

from __future__ import annotations

from datetime import date, timedelta

from tests.scenario import accept_invitations, bearer, setup_agencies, survey_payload
from tests.surveys.steps import launch, window

ALL_TYPES = [
    {"code": "priority", "type": "single_choice", "text": "What should we spend most on?",
     "options": ["Street lighting", "Police patrols"]},
    {"code": "places", "type": "multiple_choice", "text": "Where do you feel unsafe?",
     "options": ["Bus station", "High Street", "Park"]},
    {"code": "feel_safe", "type": "rating", "text": "How safe do you feel?",
     "scale": {"min": 1, "max": 5, "labels": ["Very unsafe", "Fairly unsafe", "Neither",
                                              "Fairly safe", "Very safe"]}},
    {"code": "victim", "type": "yes_no", "text": "Were you a victim of crime?"},
    {"code": "reported", "type": "yes_no", "text": "Did you report it?", "required": False,
     "show_if": {"question": "victim", "in": ["yes"]}},
    {"code": "visits", "type": "number", "text": "Evenings a week in town?", "min": 0, "max": 7},
    {"code": "comments", "type": "free_text", "text": "Anything else?", "required": False},
]


def post_survey(clients, key: str, **changes):
    return clients["surveys"].post("/api/v1/surveys", headers=bearer(key),
                                   json=survey_payload(**changes))


def test_every_question_type_is_accepted_with_its_rules(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    created = post_survey(clients, keys["council"]["officer"], questions=ALL_TYPES)
    assert created.status_code == 201, created.json
    questions = {q["code"]: q for q in created.json["questions"]}
    assert [q["type"] for q in created.json["questions"]] == [q["type"] for q in ALL_TYPES]
    assert questions["visits"]["min"] == 0 and questions["visits"]["max"] == 7
    assert questions["reported"]["show_if"] == {"question": "victim", "in": ["yes"]}
    assert questions["reported"]["required"] is False


def test_show_if_must_refer_to_an_earlier_question(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    questions = [ALL_TYPES[4], ALL_TYPES[3]]  # "reported" before "victim"
    response = post_survey(clients, keys["council"]["officer"], questions=questions)
    assert response.status_code == 422
    assert "earlier question" in response.json["errors"]["json"]["questions"]["0"]["show_if"][0]


def test_number_bounds_and_options_are_checked(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    bad = [{**ALL_TYPES[5], "min": 9, "max": 1}, {**ALL_TYPES[3], "options": ["a", "b"]}]
    errors = post_survey(clients, keys["council"]["officer"],
                         questions=bad).json["errors"]["json"]["questions"]
    assert "max" in errors["0"] and "options" in errors["1"]


def test_sms_dialogue_refuses_questions_sms_cannot_ask_and_names_them(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    ten = {"code": "ward", "type": "single_choice", "text": "Which ward do you live in?",
           "options": [f"Ward {n}" for n in range(1, 11)]}
    response = post_survey(clients, keys["council"]["officer"], channels=["sms_dialogue"],
                           questions=[ALL_TYPES[0], ALL_TYPES[1], ten])
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["questions"]
    assert set(errors) == {"1", "2"}
    assert errors["1"]["type"][0].startswith("Question places:")
    assert "at most 9 options" in errors["2"]["type"][0] and "ward" in errors["2"]["type"][0]
    # The same questions are fine on the web.
    assert post_survey(clients, keys["council"]["officer"], channels=["web"],
                       questions=[ALL_TYPES[0], ALL_TYPES[1], ten]).status_code == 201


def test_bank_questions_keep_their_code_across_agencies_and_results_merge(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    council, police = keys["council"]["officer"], keys["police"]["officer"]
    bank = clients["surveys"].post("/api/v1/question-bank", headers=bearer(council), json={
        "code": "feel_safe_after_dark", "type": "rating",
        "text": "How safe do you feel outside after dark?",
        "scale": {"min": 1, "max": 5, "labels": []}})
    assert bank.status_code == 201, bank.json
    again = clients["surveys"].post("/api/v1/question-bank", headers=bearer(police),
                                    json={**bank.json["definition"], "text": "Changed?"})
    assert again.status_code == 409 and "code" in again.json["errors"]["json"]
    listed = clients["surveys"].get("/api/v1/question-bank?search=safe", headers=bearer(police))
    assert [q["code"] for q in listed.json] == ["feel_safe_after_dark"]

    ids = []
    for key, sponsors in ((council, (("council", "100"),)),
                          (police, (("police", "60"), ("council", "40")))):
        created = post_survey(clients, key, sponsors=sponsors, questions=[
            {"bank_code": "feel_safe_after_dark"}, ALL_TYPES[0]])
        assert created.status_code == 201, created.json
        accept_invitations(clients["surveys"], keys, created.json)
        first = created.json["questions"][0]
        assert (first["code"], first["bank_code"], first["type"]) == (
            "feel_safe_after_dark", "feel_safe_after_dark", "rating")
        ids.append(created.json["id"])
    merged = clients["surveys"].get("/api/v1/question-bank/feel_safe_after_dark/results",
                                    headers=bearer(keys["council"]["analyst"]))
    assert [r["survey_id"] for r in merged.json] == ids
    assert all([q["code"] for q in r["questions"]] == ["feel_safe_after_dark"]
               for r in merged.json)
    only_police = clients["surveys"].get("/api/v1/question-bank/feel_safe_after_dark/results",
                                         headers=bearer(keys["health"]["analyst"]))
    assert only_police.json == []
    unknown = post_survey(clients, council, questions=[{"bank_code": "no_such_question"}])
    assert unknown.status_code == 422
    assert "no_such_question" in unknown.json["errors"]["json"]["questions"]["0"]["bank_code"][0]


def test_a_co_sponsor_joins_a_draft_with_its_own_module_once_the_lead_approves(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    council, police = bearer(keys["council"]["officer"]), bearer(keys["police"]["officer"])
    survey_id = post_survey(clients, keys["council"]["officer"]).json["id"]
    asked = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/join-requests", headers=police,
                                    json={"message": "We patrol the town centre too.",
                                          "questions": [ALL_TYPES[3], ALL_TYPES[4]]})
    assert asked.status_code == 201, asked.json
    request_id = asked.json["id"]
    # Until approved, police cannot read the survey.
    assert clients["surveys"].get(f"/api/v1/surveys/{survey_id}", headers=police).status_code \
        == 404
    decision = f"/api/v1/surveys/{survey_id}/join-requests/{request_id}/decision"
    assert clients["surveys"].post(decision, headers=police, json={
        "approve": False}).status_code == 404
    short = clients["surveys"].post(decision, headers=council, json={"approve": True, "sponsors": [
        {"agency": "council", "cost_share": "70"}, {"agency": "police", "cost_share": "20"}]})
    assert short.status_code == 422 and "add up to 100" in short.json["errors"]["json"][
        "sponsors"][0]
    approved = clients["surveys"].post(decision, headers=council, json={
        "approve": True, "sponsors": [{"agency": "council", "cost_share": "70"},
                                      {"agency": "police", "cost_share": "30"}]})
    assert approved.status_code == 200, approved.json
    assert [(s["agency"], s["cost_share"]) for s in approved.json["sponsors"]] == [
        ("council", "70.00"), ("police", "30.00")]
    module = [q for q in approved.json["questions"] if q["module_agency"] == "police"]
    assert [q["code"] for q in module] == ["victim", "reported"]
    survey = clients["surveys"].get(f"/api/v1/surveys/{survey_id}", headers=police)
    assert survey.status_code == 200
    results = clients["surveys"].get(f"/api/v1/surveys/{survey_id}/results", headers=police)
    assert results.status_code == 200
    assert clients["surveys"].post(decision, headers=council,
                                   json={"approve": False}).status_code == 409


def test_approving_a_request_while_an_invitation_waits_sets_its_proposed_share_too(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    council = bearer(keys["council"]["officer"])
    draft = post_survey(clients, keys["council"]["officer"],
                        sponsors=(("council", "60"), ("police", "40"))).json
    asked = clients["surveys"].post(f"/api/v1/surveys/{draft['id']}/join-requests",
                                    headers=bearer(keys["health"]["officer"]), json={})
    decision = f"/api/v1/surveys/{draft['id']}/join-requests/{asked.json['id']}/decision"
    without_police = clients["surveys"].post(decision, headers=council, json={
        "approve": True, "sponsors": [{"agency": "council", "cost_share": "60"},
                                      {"agency": "health", "cost_share": "40"}]})
    assert without_police.status_code == 422
    assert without_police.json["errors"]["json"]["sponsors"] == [
        "Expected shares for council, health, police."]
    approved = clients["surveys"].post(decision, headers=council, json={
        "approve": True, "sponsors": [{"agency": "council", "cost_share": "50"},
                                      {"agency": "health", "cost_share": "20"},
                                      {"agency": "police", "cost_share": "30"}]})
    assert approved.status_code == 200, approved.json
    assert [(s["agency"], s["cost_share"]) for s in approved.json["sponsors"]] == [
        ("council", "50.00"), ("health", "20.00")]
    assert [(i["agency"], i["proposed_cost_share"], i["status"])
            for i in approved.json["invitations"]] == [("police", "30.00", "pending")]


def test_a_join_request_with_clashing_codes_is_refused_naming_the_question(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = post_survey(clients, keys["council"]["officer"]).json["id"]
    clash = {"code": "priority", "type": "yes_no", "text": "Should we patrol more?"}
    response = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/join-requests",
                                       headers=bearer(keys["police"]["officer"]),
                                       json={"questions": [clash]})
    assert response.status_code == 422
    assert "already has a question priority" in response.json["errors"]["json"]["questions"][
        "0"]["code"][0]


def test_overlapping_surveys_are_listed_on_create_and_launch_with_a_way_to_join(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    police = post_survey(clients, keys["police"]["officer"], sponsors=(("police", "100"),),
                         areas=["E05001001", "E05001002"], topics=["Community safety", "ASB"],
                         fieldwork=window(30))
    assert police.json["overlaps"] == []
    later = {"start": (date.today() + timedelta(days=60)).isoformat(),
             "end": (date.today() + timedelta(days=70)).isoformat()}
    elsewhere = post_survey(clients, keys["health"]["officer"], sponsors=(("health", "100"),),
                            areas=["E05009999"], topics=["community safety"], fieldwork=window())
    other_time = post_survey(clients, keys["health"]["officer"], sponsors=(("health", "100"),),
                             areas=["E05001001"], topics=["community safety"], fieldwork=later)
    assert elsewhere.json["overlaps"] == [] and other_time.json["overlaps"] == []

    council = post_survey(clients, keys["council"]["officer"], areas=["E05001002"],
                          topics=["community safety", "lighting"], fieldwork=window(14))
    assert council.status_code == 201
    [overlap] = council.json["overlaps"]
    assert overlap["survey_id"] == police.json["id"] and overlap["lead_agency"] == "police"
    assert overlap["join"] == f"/api/v1/surveys/{police.json['id']}/join-requests"
    launched = clients["surveys"].post(f"/api/v1/surveys/{council.json['id']}/launch",
                                       headers=bearer(keys["council"]["officer"]))
    assert launched.status_code == 202
    assert [o["survey_id"] for o in launched.json["overlaps"]] == [police.json["id"]]
    # The offer can be taken up.
    joined = clients["surveys"].post(overlap["join"], headers=bearer(keys["council"]["officer"]),
                                     json={"message": "Shall we ask once?"})
    assert joined.status_code == 201


def test_a_join_request_on_a_survey_not_open_to_join_answers_exactly_as_a_missing_one(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    police = bearer(keys["police"]["officer"])
    # A module whose code clashes with the survey's: an open draft would name the clash.
    clash = {"message": "May we join?", "questions": [
        {"code": "priority", "type": "yes_no", "text": "Should we patrol more?"}]}

    def ask(survey_id):
        return clients["surveys"].post(f"/api/v1/surveys/{survey_id}/join-requests",
                                       headers=police, json=clash)

    missing = ask(999_999)
    assert missing.status_code == 404
    shut = post_survey(clients, keys["council"]["officer"], open_to_join=False).json["id"]
    in_fieldwork, _, _ = launch(apps, clients, pump, keys=keys)
    closed, officer, _ = launch(apps, clients, pump, keys=keys)
    assert clients["surveys"].post(f"/api/v1/surveys/{closed}/close",
                                   headers=officer).status_code == 200
    for survey_id in (shut, in_fieldwork, closed):
        answered = ask(survey_id)
        assert (answered.status_code, answered.data) == (missing.status_code, missing.data)
    # A draft open to join tells the asker what does not fit.
    open_draft = post_survey(clients, keys["council"]["officer"]).json["id"]
    fits_not = ask(open_draft)
    assert fits_not.status_code == 422 and "priority" in fits_not.json["errors"]["json"][
        "questions"]["0"]["code"][0]
    # Its sponsors know the survey, and still hear why.
    assert clients["surveys"].post(f"/api/v1/surveys/{in_fieldwork}/join-requests",
                                   headers=officer, json=clash).status_code == 409


def test_overlaps_offer_to_join_only_a_survey_open_to_join(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    where = {"areas": ["E05001001"], "topics": ["community safety"], "fieldwork": window(30)}
    shut = post_survey(clients, keys["police"]["officer"], sponsors=(("police", "100"),),
                       open_to_join=False, **where)
    assert shut.json["open_to_join"] is False
    open_draft = post_survey(clients, keys["health"]["officer"], sponsors=(("health", "100"),),
                             **where)
    council = post_survey(clients, keys["council"]["officer"], **where)
    joins = {o["survey_id"]: o["join"] for o in council.json["overlaps"]}
    assert joins == {shut.json["id"]: "", open_draft.json["id"]:
                     f"/api/v1/surveys/{open_draft.json['id']}/join-requests"}


def test_an_admin_issues_lists_and_revokes_their_agencys_keys(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    admin = bearer(keys["council"]["admin"])
    issued = clients["surveys"].post("/api/v1/keys", headers=admin,
                                     json={"role": "analyst", "label": "Sam in insight"})
    assert issued.status_code == 201 and issued.json["key"].startswith("cp_")
    new_key = bearer(issued.json["key"])
    assert clients["surveys"].get("/api/v1/surveys", headers=new_key).status_code == 200
    listed = clients["surveys"].get("/api/v1/keys", headers=admin).json
    assert listed[0]["label"] == "Sam in insight" and "key" not in listed[0]
    assert {k["agency"] for k in listed} == {"council"}
    other = clients["surveys"].delete(f"/api/v1/keys/{listed[0]['key_prefix']}",
                                      headers=bearer(keys["police"]["admin"]))
    assert other.status_code == 404
    assert clients["surveys"].post("/api/v1/keys", headers=bearer(keys["council"]["officer"]),
                                   json={"role": "admin"}).status_code == 403
    revoked = clients["surveys"].delete(f"/api/v1/keys/{listed[0]['key_prefix']}",
                                        headers=admin)
    assert revoked.status_code == 204
    assert clients["surveys"].get("/api/v1/surveys", headers=new_key).status_code == 401
    bad = clients["surveys"].post("/api/v1/keys", headers=admin, json={"role": "wizard"})
    assert bad.status_code == 422 and "role" in bad.json["errors"]["json"]
