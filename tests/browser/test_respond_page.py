"""A citizen opens their survey link in a real browser, answers and submits."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from services.surveys.models import Answer, Invitation, Question, Response
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload
from tests.surveys.steps import drawn, invitations, launch, member


def launched_survey_token(apps, clients, pump) -> str:
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], 2)
    officer = bearer(keys["council"]["officer"])
    survey_id = clients["surveys"].post("/api/v1/surveys", json=survey_payload(sample_size=1),
                                        headers=officer).json["id"]
    clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch", headers=officer)
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(Invitation.token))


def test_citizen_answers_in_a_browser_after_fixing_a_missed_question(
        apps, clients, pump, live_surveys, page, axe):
    token = launched_survey_token(apps, clients, pump)
    page.goto(f"{live_surveys.url}/r/{token}")
    assert page.locator("h1").inner_text() == "Feeling safe in the town centre"
    axe.check(page, "survey")

    # Only the optional question answered: the page says what is missing, next to the question.
    page.get_by_label("Anything else? (optional)").fill("Brighter lights by the bus station")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.locator("#feel_safe-error").inner_text().endswith("Answer this question.")
    axe.check(page, "survey, with errors")
    assert page.get_by_label("Anything else? (optional)").input_value() == (
        "Brighter lights by the bus station")

    page.get_by_role("link", name="Answer this question.").first.click()
    page.get_by_label("4 – Fairly safe").check()
    page.get_by_label("Street lighting").check()
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", name="Thank you, your answers are saved")).to_be_visible()
    axe.check(page, "survey, thanks")
    assert "Allocate the town-centre safety budget" in page.content()
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(
            select(Question.code, Answer.value).join(Answer, Answer.question_id == Question.id)
            .join(Response, Response.id == Answer.response_id)).all())
    assert saved == {"feel_safe": "4", "priority": "Street lighting",
                     "comments": "Brighter lights by the bus station"}

    page.goto(f"{live_surveys.url}/r/{token}")
    expect(page.get_by_role("heading",
                            name="You have already answered this survey")).to_be_visible()
    axe.check(page, "survey, already answered")


SKIP_LOGIC = [
    {"code": "victim", "type": "yes_no", "text": "Were you a victim of crime this year?"},
    {"code": "reported", "type": "yes_no", "text": "Did you report it to the police?",
     "show_if": {"question": "victim", "in": ["yes"]}},
    {"code": "places", "type": "multiple_choice", "text": "Where do you feel unsafe?",
     "options": ["Bus station", "High Street", "Park"], "required": False},
    {"code": "visits", "type": "number", "text": "How many evenings a week are you in town?",
     "min": 0, "max": 7},
]


def test_citizen_answers_a_survey_with_skip_logic_saving_and_coming_back(
        apps, clients, pump, live_surveys, page, axe):
    survey_id, _, _ = launch(apps, clients, pump, questions=SKIP_LOGIC)
    drawn(pump, survey_id, [member()])
    [invitation] = invitations(apps["surveys"], survey_id)
    page.goto(f"{live_surveys.url}/r/{invitation.token}")

    follow_up = page.get_by_role("group", name="Did you report it to the police?")
    expect(follow_up).not_to_be_visible()  # asked only of victims
    axe.check(page, "survey with skip logic")
    victim = page.get_by_role("group", name="Were you a victim of crime this year?")
    victim.get_by_label("Yes").check()
    expect(follow_up).to_be_visible()
    victim.get_by_label("No").check()
    expect(follow_up).not_to_be_visible()

    # Keyboard only: tick two places, then save to come back later.
    page.get_by_label("Bus station").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_text("Your answers so far are saved.")).to_be_visible()
    axe.check(page, "survey, saved for later")

    page.goto(f"{live_surveys.url}/r/{invitation.token}")
    assert page.get_by_label("Bus station").is_checked() and page.get_by_label("Park").is_checked()
    expect(follow_up).not_to_be_visible()
    page.get_by_label("How many evenings a week are you in town?").fill("9")
    page.get_by_role("button", name="Send my answers").click()
    assert page.locator("#visits-error").inner_text().endswith("Enter a number from 0 to 7.")
    page.get_by_label("How many evenings a week are you in town?").fill("2")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", name="Thank you, your answers are saved")).to_be_visible()
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(
            select(Question.code, Answer.value).join(Answer, Answer.question_id == Question.id)
        ).all())
    assert saved == {"victim": "no", "places": '["Bus station", "Park"]', "visits": "2"}
