"""A citizen opens their survey link in a real browser, answers and submits."""

from __future__ import annotations

from sqlalchemy import select

from services.surveys.models import Answer, Invitation, Question, Response
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload


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
        apps, clients, pump, live_surveys, page):
    token = launched_survey_token(apps, clients, pump)
    page.goto(f"{live_surveys.url}/r/{token}")
    assert page.locator("h1").inner_text() == "Feeling safe in the town centre"

    # Only the optional question answered: the page says what is missing, next to the question.
    page.get_by_label("Anything else? (optional)").fill("Brighter lights by the bus station")
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert page.locator("#feel_safe-error").inner_text().endswith("Answer this question.")
    assert page.get_by_label("Anything else? (optional)").input_value() == (
        "Brighter lights by the bus station")

    page.get_by_role("link", name="Answer this question.").first.click()
    page.get_by_label("4 – Fairly safe").check()
    page.get_by_label("Street lighting").check()
    page.get_by_role("button", name="Send my answers").click()

    assert page.get_by_role("heading", name="Thank you, your answers are saved").is_visible()
    assert "Allocate the town-centre safety budget" in page.content()
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(
            select(Question.code, Answer.value).join(Answer, Answer.question_id == Question.id)
            .join(Response, Response.id == Answer.response_id)).all())
    assert saved == {"feel_safe": "4", "priority": "Street lighting",
                     "comments": "Brighter lights by the bus station"}

    page.goto(f"{live_surveys.url}/r/{token}")
    assert page.get_by_role("heading", name="You have already answered this survey").is_visible()
