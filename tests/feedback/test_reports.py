"""Feedback reports: drafted from a closed survey's results, completed with what was decided
and why, published with small cells hidden."""

from __future__ import annotations

from shared.disclosure import suppress_counts
from tests.feedback.closing import close_survey, complete_and_publish, only_report, send
from tests.scenario import accept_invitations, add_members, bearer, setup_agencies, survey_payload


def answer_everyone(apps, clients, pump, answers: list[tuple[str, str]]) -> tuple[dict, int]:
    """A joint survey launched to as many members as there are answers, answered by web."""
    from tests.e2e.test_whole_flow import invitation_tokens

    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], len(answers))
    officer = bearer(keys["council"]["officer"])
    created = clients["surveys"].post("/api/v1/surveys", headers=officer, json=survey_payload(
        sponsors=(("council", "60.00"), ("police", "40.00")), sample_size=len(answers))).json
    accept_invitations(clients["surveys"], keys, created)
    survey_id = created["id"]
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch",
                                   headers=officer).status_code == 202
    pump()
    tokens = invitation_tokens(apps["surveys"])
    for token, (rating, priority) in zip(tokens, answers, strict=True):
        answered = clients["surveys"].post(f"/r/{token}", data={
            "feel_safe": rating, "priority": priority, "comments": ""})
        assert answered.status_code == 303
    return keys, survey_id


def test_a_closed_survey_drafts_a_report_whose_figures_match_the_surveys_results(
        apps, clients, pump):
    answers = ([("4", "Street lighting")] * 14 + [("2", "Police patrols")] * 7
               + [("5", "Welfare services")] * 3)
    keys, survey_id = answer_everyone(apps, clients, pump, answers)
    analyst = bearer(keys["police"]["analyst"])
    results = clients["surveys"].get(f"/api/v1/surveys/{survey_id}/results", headers=analyst).json
    officer = bearer(keys["council"]["officer"])
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close",
                                   headers=officer).status_code == 200
    pump()

    report = only_report(clients["feedback"], keys["police"]["analyst"])
    assert report["status"] == "draft" and report["survey_id"] == survey_id
    assert report["respondents"] == results["responded"] == 24
    assert report["invited"] == results["invited"] == 24
    assert sorted(report["sponsors"]) == ["council", "police"]
    assert report["decision_owner"] == "Community Safety Partnership board"
    # The sponsors see the figures exactly as surveys computed them ...
    for drafted, computed in zip(report["survey_results"], results["questions"], strict=True):
        for field in ("code", "base", "counts", "mean", "comments"):
            assert drafted[field] == computed[field], field
    # ... and the figures to be published are the same, small cells hidden.
    priority = next(q for q in report["results"] if q["code"] == "priority")
    assert priority["counts"] == {"Street lighting": 14, "Police patrols": None,
                                  "Welfare services": None}
    assert priority["counts"] == suppress_counts(results["questions"][1]["counts"], 10)
    assert priority["headline"] == "Most people (58%) chose “Street lighting”."
    assert report["most_preferred"]["answer"] == "Street lighting"
    rating = next(q for q in report["results"] if q["code"] == "feel_safe")
    assert rating["mean"] == results["questions"][0]["mean"]
    assert report["representativeness"][0] == "24 of the 24 people invited answered."


def test_publishing_a_decision_against_the_majority_without_why_is_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, {"Mornings": 30, "Evenings": 20})
    officer = keys["police"]["officer"]
    report = only_report(clients["feedback"], officer)
    response = complete_and_publish(clients["feedback"], officer, report["id"],
                                    decision_relation="goes_against", chosen_answer="Evenings")
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == ["why"]
    assert clients["feedback"].get("/api/v1/public/reports").json == []
    assert pump.relay("feedback") == 0


def test_a_decision_said_to_follow_the_majority_when_it_does_not_is_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, {"Mornings": 30, "Evenings": 20})
    officer = keys["police"]["officer"]
    report = only_report(clients["feedback"], officer)
    response = complete_and_publish(clients["feedback"], officer, report["id"],
                                    decision_relation="follows", chosen_answer="Evenings")
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors) == {"decision_relation", "why"}
    assert "Most people preferred “Mornings”, not “Evenings”" in errors["decision_relation"][0]
    assert pump.relay("feedback") == 0

    # Saying so honestly, with a reason, publishes.
    clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=bearer(officer), json={
        "decision_relation": "goes_against",
        "why": "Evening staff cannot be funded this year; mornings cost nothing extra."})
    published = clients["feedback"].post(f"/api/v1/reports/{report['id']}/publish",
                                         headers=bearer(officer))
    assert published.status_code == 200, published.json
    public = clients["feedback"].get(f"/api/v1/public/reports/{report['id']}").json
    assert public["decision_relation"] == "goes_against"
    page = clients["feedback"].get(f"/you-said-we-did/{report['id']}").get_data(as_text=True)
    assert "goes against what most people preferred" in page
    assert "Evening staff cannot be funded this year" in page


def test_a_decision_following_the_majority_publishes_without_why(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, {"Mornings": 30, "Evenings": 20})
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    assert set(report["publish_problems"]) == {"we_did", "decided_on", "why"}
    response = complete_and_publish(clients["feedback"], officer, report["id"])
    assert response.status_code == 200, response.json
    assert response.json["report"]["decision_relation"] == "follows"


def test_completing_names_the_field_when_the_chosen_answer_is_not_an_answer(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump)
    officer = bearer(keys["council"]["officer"])
    report = only_report(clients["feedback"], keys["council"]["officer"])
    wrong = clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=officer,
                                      json={"preference_question": "hours",
                                            "chosen_answer": "Midnight"})
    assert wrong.status_code == 422
    assert "chosen_answer" in wrong.json["errors"]["json"]
    bad = clients["feedback"].patch(f"/api/v1/reports/{report['id']}", headers=officer,
                                    json={"decision_relation": "maybe"})
    assert bad.status_code == 422 and "decision_relation" in bad.json["errors"]["json"]


def test_reports_are_visible_to_their_sponsors_only(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump)
    assert len(clients["feedback"].get("/api/v1/reports",
                                       headers=bearer(keys["council"]["analyst"])).json) == 1
    college = bearer(keys["college"]["officer"])
    assert clients["feedback"].get("/api/v1/reports", headers=college).json == []
    assert clients["feedback"].get("/api/v1/reports/1", headers=college).status_code == 404
    assert clients["feedback"].post("/api/v1/reports/1/publish",
                                    headers=college).status_code == 404


def test_weighted_figures_lead_when_surveys_sends_them(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    counts = {"Mornings": 30, "Evenings": 24, "Weekends": 4, "Sundays": 3}
    close_survey(pump, counts, questions=[{
        "code": "hours", "text": "Which hours suit you?", "type": "single_choice", "base": 61,
        "counts": counts, "mean": None, "comments": 0,
        "weighted_percent": {"Mornings": 40.0, "Evenings": 53.0, "Weekends": 4.0,
                             "Sundays": 3.0}}],
        weighting={"dimensions": ["age_band", "area"], "converged": True,
                   "effective_sample_size": 41.2, "design_effect": 1.41},
        representation=[{"dimension": "age_band", "category": "16-24", "population_share": 0.14,
                         "respondent_share": 0.05, "ratio": 0.36}])
    report = only_report(clients["feedback"], keys["council"]["officer"])
    hours = report["results"][0]
    # Evenings lead once weighted, though more respondents chose mornings.
    assert hours["headline"] == ("Most people (53%, weighted to the population) "
                                 "chose “Evenings”.")
    assert report["most_preferred"]["answer"] == "Evenings"
    # Hidden counts take their weighted percentages with them.
    assert hours["counts"] == {"Mornings": 30, "Evenings": 24, "Weekends": None, "Sundays": None}
    assert hours["weighted_percent"] == {"Mornings": 40.0, "Evenings": 53.0, "Weekends": None,
                                         "Sundays": None}
    notes = " ".join(report["representativeness"])
    assert "people aged 16 to 24 (fewer than 10 people of those who answered, 14% of" in notes
    assert "weighted to the population by age band, area" in notes


def test_draft_reports_have_no_public_page(apps, clients, pump):
    setup_agencies(apps, pump)
    close_survey(pump)
    assert clients["feedback"].get("/you-said-we-did/1").status_code == 404
    assert clients["feedback"].get("/api/v1/public/reports/1").status_code == 404


def test_an_erased_member_is_not_told_the_outcome(apps, clients, pump, smtp_server):
    keys = setup_agencies(apps, pump)
    members = add_members(clients["panel"], keys["council"]["panel_manager"], 3)
    close_survey(pump, {"Mornings": 2, "Evenings": 1}, sponsors=("council",),
                 respondent_refs=[m["member_ref"] for m in members])
    send(pump, "feedback.member_erased", {"member_ref": members[0]["member_ref"]})
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    published = complete_and_publish(clients["feedback"], officer, report["id"])
    assert published.json["respondents_to_tell"] == 2
    pump()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        m["email"] for m in members[1:])


def test_the_note_on_who_answered_names_groups_and_says_unsettled_weights_were_not_used():
    from services.feedback.findings import representativeness_note

    notes = representativeness_note(
        [{"dimension": "age_band", "category": "75+", "population_share": 0.08,
          "respondent_share": 0.2, "ratio": 2.5},
         {"dimension": "disability", "category": "disabled", "population_share": 0.18,
          "respondent_share": 0.09, "ratio": 0.5}],
        {"dimensions": ["age_band"], "converged": False, "effective_sample_size": 80.4,
         "design_effect": 1.24}, respondents=100, invited=300, threshold=10)
    assert notes[0] == "100 of the 300 people invited answered."
    assert ("Fewer answered than their share of the population among disabled people (fewer "
            "than 10 people of those who answered, 18% of the population).") in notes
    assert ("More answered than their share of the population among people aged 75+ (20% of "
            "those who answered, 8% of the population).") in notes
    assert not any("weighted to the population by" in n or "chosen at random" in n
                   for n in notes)
    assert notes[-1] == ("The results are not weighted: they are the answers as given. "
                         "Weighting them to the population was tried, but no set of weights "
                         "matched every population figure at once.")


def test_a_published_report_says_weighted_only_where_weighted_figures_exist(apps, clients,
                                                                            pump):
    keys = setup_agencies(apps, pump)
    # Surveys tried to weight by ethnicity and could not: nobody Asian answered, so it
    # sent no weighted figure.
    close_survey(pump, {"Mornings": 30, "Evenings": 20},
                 weighting={"dimensions": ["ethnicity", "area"], "converged": False,
                            "effective_sample_size": 31.0, "design_effect": 1.6,
                            "failing": {"dimension": "ethnicity", "category": "asian",
                                        "nobody_answered": True}})
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
    public = clients["feedback"].get(f"/api/v1/public/reports/{report['id']}").json
    assert public["representativeness"][-1] == (
        "The results are not weighted: they are the answers as given. Weighting them to the "
        "population was tried, but nobody who answered is among people Asian, Asian British "
        "or Asian Welsh, so the answers could not be made to match the population.")
    page = clients["feedback"].get(f"/you-said-we-did/{report['id']}").get_data(as_text=True)
    assert "weighted to the population" not in page and "Percentages are weighted" not in page
    assert "they are the answers as given" in page


def test_the_note_never_gives_one_hidden_group_away_from_the_others_share():
    from services.feedback.findings import representativeness_note

    notes = " ".join(representativeness_note(
        [{"dimension": "gender", "category": "female", "population_share": 0.5,
          "respondent_share": 0.95, "ratio": 1.9},
         {"dimension": "gender", "category": "male", "population_share": 0.5,
          "respondent_share": 0.05, "ratio": 0.1}],
        None, respondents=100, invited=300, threshold=10))
    # 5 men would be 100% - 95%: the women's share goes unsaid too.
    assert "95%" not in notes
    assert "people Female (a share not shown of those who answered" in notes
    assert "people Male (fewer than 10 people of those who answered" in notes
