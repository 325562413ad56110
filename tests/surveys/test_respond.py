"""Answering by web link: answers checked, saved once; unknown and closed links get a clear page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from werkzeug.test import Client

from services.surveys.models import Answer, Invitation, Question, Response, SavedAnswer
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload
from tests.surveys.steps import drawn, invitations, launch, member


def launched(apps, clients, pump, members: int = 2):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], members)
    officer = bearer(keys["council"]["officer"])
    survey_id = clients["surveys"].post("/api/v1/surveys", json=survey_payload(
        sample_size=members), headers=officer).json["id"]
    clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch", headers=officer)
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        tokens = list(session.scalars(select(Invitation.token)))
    return survey_id, officer, tokens


def answer_count(apps) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(Answer))


def test_out_of_range_answers_are_refused_with_the_reason_and_nothing_saved(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump)
    response = clients["surveys"].post(f"/r/{tokens[0]}", data={
        "feel_safe": "9", "priority": "Free parking"})
    assert response.status_code == 422
    assert b"Choose a point on the scale." in response.data
    assert b"Choose one of the options." in response.data
    assert answer_count(apps) == 0


def test_unknown_link_gets_a_clear_page(apps, clients, pump):
    response = clients["surveys"].get("/r/not-a-real-token")
    assert response.status_code == 404
    assert b"This link is not recognised" in response.data


def test_closed_survey_link_says_it_has_closed(apps, clients, pump):
    survey_id, officer, tokens = launched(apps, clients, pump)
    clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close", headers=officer)
    response = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "3",
                                                                 "priority": "Police patrols"})
    assert response.status_code == 410
    assert b"This survey has closed" in response.data
    assert answer_count(apps) == 0


def test_invited_members_profile_snapshot_is_kept_with_the_invitation(apps, clients, pump):
    launched(apps, clients, pump, members=1)
    with apps["surveys"].app_context(), new_session() as session:
        invitation = session.scalar(select(Invitation))
    assert invitation.profile == {"age_band": "25-34", "gender": "female", "ethnicity": "white",
                                  "disability": "not_disabled", "area": "E05001001",
                                  "deprivation_decile": None, "tenure": None, "extra": {}}
    assert invitation.delivery_status == "sent"


def test_a_member_saves_progress_and_comes_back_to_finish(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    saved = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "2", "action": "save"})
    assert saved.status_code == 200 and b"Your answers so far are saved." in saved.data
    assert answer_count(apps) == 0  # nothing counts until it is sent
    again = clients["surveys"].get(f"/r/{tokens[0]}")
    assert b'value="2" checked' in again.data
    sent = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "2",
                                                            "priority": "Police patrols"})
    assert sent.status_code == 303
    assert answer_count(apps) == 2


def test_saving_progress_still_checks_what_was_given(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    response = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "12",
                                                                 "action": "save"})
    assert response.status_code == 422 and b"Choose a point on the scale." in response.data


def test_a_second_submission_is_refused_and_the_first_kept(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    first = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "5",
                                                             "priority": "Street lighting"})
    assert first.status_code == 303
    second = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "1",
                                                              "priority": "Police patrols"})
    assert second.status_code == 409 and b"already answered" in second.data
    with apps["surveys"].app_context(), new_session() as session:
        assert sorted(session.scalars(select(Answer.value))) == ["5", "Street lighting"]


def test_the_thank_you_page_says_what_happens_next(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "5",
                                                      "priority": "Street lighting"})
    page = clients["surveys"].get(f"/r/{tokens[0]}/thanks").data.decode()
    assert "Allocate the town-centre safety budget" in page
    assert "Community Safety Partnership board is due to decide by" in page
    assert "We will tell you what was decided and why" in page


def web_survey(apps, clients, pump, member_language: str = "en", **changes):
    survey_id, _, _ = launch(apps, clients, pump, **changes)
    drawn(pump, survey_id, [member(language=member_language)])
    return invitations(apps["surveys"], survey_id)[0].token


SKIP_LOGIC = [
    {"code": "victim", "type": "yes_no", "text": "Were you a victim of crime this year?"},
    {"code": "reported", "type": "yes_no", "text": "Did you report it?",
     "show_if": {"question": "victim", "in": ["yes"]}},
    {"code": "places", "type": "multiple_choice", "text": "Where do you feel unsafe?",
     "options": ["Bus station", "High Street", "Park"], "required": False},
    {"code": "visits", "type": "number", "text": "Evenings a week in town?", "min": 0, "max": 7},
]


def test_answers_to_questions_skip_logic_hides_are_not_required_or_kept(apps, clients, pump):
    token = web_survey(apps, clients, pump, questions=SKIP_LOGIC)
    page = clients["surveys"].get(f"/r/{token}").data.decode()
    assert "Answer this only if you answered “Yes” to “Were you a victim" in page
    answered = clients["surveys"].post(f"/r/{token}", data={
        "victim": "no", "reported": "yes", "places": ["Bus station", "Park"], "visits": "3"})
    assert answered.status_code == 303
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(select(Question.code, Answer.value).join(
            Answer, Answer.question_id == Question.id)).all())
    assert saved == {"victim": "no", "places": '["Bus station", "Park"]', "visits": "3"}


def test_a_question_shown_by_an_answer_is_required_and_numbers_are_bounded(apps, clients, pump):
    token = web_survey(apps, clients, pump, questions=SKIP_LOGIC)
    response = clients["surveys"].post(f"/r/{token}", data={"victim": "yes", "visits": "8"})
    assert response.status_code == 422
    assert b"Answer this question." in response.data
    assert b"Enter a number from 0 to 7." in response.data


def test_a_number_question_without_bounds_refuses_a_number_too_big_to_count(
        apps, clients, pump):
    """A mean of the answers must always be a number: one answer of hundreds of digits once
    stopped the survey's results and its closing for good."""
    survey_id, officer, _ = launch(apps, clients, pump, questions=[
        {"code": "people", "type": "number", "text": "How many people live with you?"}])
    drawn(pump, survey_id, [member(), member()])
    first, second = (i.token for i in invitations(apps["surveys"], survey_id))
    for huge in ("9" * 320, "1000000000", "-1000000000"):
        refused = clients["surveys"].post(f"/r/{first}", data={"people": huge})
        assert refused.status_code == 422
        assert b"Enter a number from -999999999 to 999999999." in refused.data
    assert answer_count(apps) == 0
    for token, people in ((first, "999999999"), (second, "999999999")):
        assert clients["surveys"].post(f"/r/{token}", data={"people": people}).status_code == 303
    results = clients["surveys"].get(f"/api/v1/surveys/{survey_id}/results", headers=officer)
    assert results.status_code == 200
    [people] = results.json["questions"]
    assert people["mean"] == 999999999
    closed = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close", headers=officer)
    assert closed.status_code == 200, closed.json


def test_the_page_is_in_the_members_language(apps, clients, pump):
    questions = [{"code": "feel_safe", "type": "yes_no", "text": "Do you feel safe after dark?",
                  "translations": {"cy": {
                      "text": "Ydych chi'n teimlo'n ddiogel ar ôl iddi dywyllu?"}}},
                 {"code": "priority", "type": "single_choice", "text": "What should we spend on?",
                  "options": ["Lighting", "Patrols"],
                  "translations": {"cy": {"text": "Ar beth ddylen ni wario?",
                                          "options": ["Goleuadau", "Patrolau"]}}}]
    token = web_survey(apps, clients, pump, questions=questions, languages=["en", "cy"],
                       member_language="cy", translations={"cy": {
                           "title": "Teimlo'n ddiogel yng nghanol y dref",
                           "summary": "Helpwch y bartneriaeth i benderfynu."}})
    page = clients["surveys"].get(f"/r/{token}").data.decode()
    assert '<h1 class="govuk-heading-l" lang="cy">Teimlo&#39;n ddiogel yng nghanol y dref' \
        in page and "Helpwch y bartneriaeth i benderfynu." in page
    assert "Feeling safe in the town centre" not in page
    assert "Ydych chi&#39;n teimlo&#39;n ddiogel" in page and "Goleuadau" in page
    assert "Do you feel safe after dark?" not in page
    # The stored answer is the canonical option, so results merge across languages.
    clients["surveys"].post(f"/r/{token}", data={"feel_safe": "yes", "priority": "Patrols"})
    with apps["surveys"].app_context(), new_session() as session:
        assert sorted(session.scalars(select(Answer.value))) == ["Patrols", "yes"]


# -- answers sent from the page itself, which names the launch of the survey it shows ----------


def page_form(client, token: str, **answers) -> dict:
    """What a browser sends from the survey's page: its hidden fields and these answers."""
    page = client.get(f"/r/{token}").data.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert hidden, "the page names the questionnaire it shows"
    return {**hidden, **answers}


def saved_responses(apps) -> dict[int, dict[str, str]]:
    """Each saved response's answers by question code, by invitation id."""
    with apps["surveys"].app_context(), new_session() as session:
        rows = session.execute(select(Response.invitation_id, Question.code, Answer.value)
                               .join(Answer, Answer.response_id == Response.id)
                               .join(Question, Question.id == Answer.question_id)).all()
    saved: dict[int, dict[str, str]] = {}
    for invitation_id, code, value in rows:
        saved.setdefault(invitation_id, {})[code] = value
    return saved


def test_answers_sent_from_the_page_are_saved_once(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    form = page_form(clients["surveys"], tokens[0], feel_safe="4", priority="Police patrols",
                     comments="Brighter lights")
    first = clients["surveys"].post(f"/r/{tokens[0]}", data=form)
    assert first.status_code == 303 and first.headers["Location"].endswith("/thanks")
    again = clients["surveys"].post(f"/r/{tokens[0]}", data={**form, "feel_safe": "1"})
    assert again.status_code == 409 and b"already answered" in again.data
    assert list(saved_responses(apps).values()) == [
        {"feel_safe": "4", "priority": "Police patrols", "comments": "Brighter lights"}]


def test_a_page_left_open_until_the_survey_closed_gets_the_closed_page(apps, clients, pump):
    survey_id, officer, tokens = launched(apps, clients, pump)
    answered = clients["surveys"].post(f"/r/{tokens[0]}", data=page_form(
        clients["surveys"], tokens[0], feel_safe="2", priority="Street lighting"))
    assert answered.status_code == 303
    form = page_form(clients["surveys"], tokens[1], feel_safe="3", priority="Police patrols")
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close",
                                   headers=officer).status_code == 200
    late = clients["surveys"].post(f"/r/{tokens[1]}", data=form)
    assert late.status_code == 410 and b"This survey has closed" in late.data
    assert len(saved_responses(apps)) == 1


def test_sending_the_page_after_saving_progress_keeps_only_the_final_answers(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    form = page_form(clients["surveys"], tokens[0])
    clients["surveys"].post(f"/r/{tokens[0]}", data={**form, "feel_safe": "2",
                                                      "comments": "Later", "action": "save"})
    sent = clients["surveys"].post(f"/r/{tokens[0]}", data={**form, "feel_safe": "5",
                                                             "priority": "Welfare services"})
    assert sent.status_code == 303
    assert list(saved_responses(apps).values()) == [
        {"feel_safe": "5", "priority": "Welfare services"}]
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SavedAnswer)) == 0


def test_answers_are_only_ever_checked_against_the_survey_of_the_link(apps, clients, pump):
    """A page of one survey cannot be used to answer another survey's link."""
    first, _, keys = launch(apps, clients, pump)
    other, _, _ = launch(apps, clients, pump, keys=keys, questions=SKIP_LOGIC)
    drawn(pump, first, [member()])
    drawn(pump, other, [member()])
    token, other_token = (invitations(apps["surveys"], s)[0].token for s in (first, other))
    other_page = page_form(clients["surveys"], other_token, victim="no", visits="2")
    crossed = clients["surveys"].post(f"/r/{token}", data=other_page)
    assert crossed.status_code == 422 and b"Answer this question." in crossed.data
    assert saved_responses(apps) == {}


def test_a_page_naming_its_launch_without_an_offset_is_saved_the_long_way(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    form = page_form(clients["surveys"], tokens[0], feel_safe="4", priority="Police patrols")
    survey_id, _, launched_at = form["questionnaire-version"].partition("@")
    assert launched_at.endswith("+00:00"), "the page names the launch in UTC"
    form["questionnaire-version"] = f"{survey_id}@{launched_at.removesuffix('+00:00')}"
    sent = clients["surveys"].post(f"/r/{tokens[0]}", data=form)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/thanks")
    assert list(saved_responses(apps).values()) == [
        {"feel_safe": "4", "priority": "Police patrols"}]


def test_the_answer_form_needs_no_cookie_but_console_forms_still_need_their_token(
        apps, clients, pump):
    """The answer form's authority is the secret in its address: the page sets no cookie and
    its answers are saved without a CSRF token; a staff form without its token is refused."""
    _, _, tokens = launched(apps, clients, pump, members=1)
    browser = Client(apps["surveys"])  # a browser with no cookies, posting no token
    page = browser.get(f"/r/{tokens[0]}")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert b'name="csrf_token"' not in page.data
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             page.data.decode()))
    sent = browser.post(f"/r/{tokens[0]}", data={**hidden, "feel_safe": "4",
                                                  "priority": "Police patrols"})
    assert sent.status_code == 303 and len(saved_responses(apps)) == 1
    refused = browser.post("/sign-in", data={"email": "ada@council.example"})
    assert refused.status_code == 400 and b"Your form could not be sent" in refused.data


@pytest.mark.postgresql_only
def test_answers_sent_after_the_database_dropped_its_connections_are_saved(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=2)
    forms = [page_form(clients["surveys"], token, feel_safe="4", priority="Police patrols")
             for token in tokens]
    assert clients["surveys"].post(f"/r/{tokens[0]}", data=forms[0]).status_code == 303
    # A restart or failover: every connection the surveys process keeps is now dead.
    with apps["surveys"].app_context(), new_session() as session:
        session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    second = clients["surveys"].post(f"/r/{tokens[1]}", data=forms[1])
    assert second.status_code == 303 and second.headers["Location"].endswith("/thanks")
    assert len(saved_responses(apps)) == 2
