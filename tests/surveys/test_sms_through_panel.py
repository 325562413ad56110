"""An SMS dialogue end to end: panel draws and texts, the member replies to panel's webhook."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.surveys.models import Answer, Question, SavedAnswer
from shared.db import new_session
from tests.scenario import add_members, setup_agencies
from tests.surveys.steps import launch
from tests.surveys.test_sms_dialogue import DIALOGUE_QUESTIONS

INBOUND = "http://panel.test/sms/inbound"
PHONE = "+447700900000"


def text_panel(clients, sms_gateway, body: str, sid: str | None = None) -> None:
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": sms_gateway.account_sid,
            "From": PHONE, "To": "+447700900999", "Body": body, "NumMedia": "0"}
    response = clients["panel"].post("/sms/inbound", data=form, headers={
        "X-Twilio-Signature": sms_gateway.signature(INBOUND, form)})
    assert response.status_code == 200


def last_text(sms_gateway) -> str:
    return [m["body"] for m in sms_gateway.messages if m["to"] == PHONE][-1]


def test_a_member_answers_by_sms_through_panel_and_the_answers_are_saved(
        apps, clients, pump, sms_gateway):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], 1, sms_every=1)
    launch(apps, clients, pump, keys=keys, sample_size=1, channels=["sms_dialogue"],
           questions=DIALOGUE_QUESTIONS)
    pump()
    assert "have your say" in sms_gateway.messages[0]["body"]
    assert last_text(sms_gateway).startswith("Q1/")

    for body in ("4", "two", "n", "1", "skip"):
        text_panel(clients, sms_gateway, body)
        pump()
    assert last_text(sms_gateway).startswith("Thank you, your answers are saved.")
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(select(Question.code, Answer.value).join(
            Answer, Answer.question_id == Question.id)).all())
    assert saved == {"feel_safe": "4", "priority": "Police patrols", "victim": "no",
                     "visits": "1"}


def test_a_replayed_reply_to_panels_webhook_saves_one_answer_and_asks_the_next_question_once(
        apps, clients, pump, sms_gateway):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], 1, sms_every=1)
    launch(apps, clients, pump, keys=keys, sample_size=1, channels=["sms_dialogue"],
           questions=DIALOGUE_QUESTIONS)
    pump()
    sid = "SM" + "3" * 32
    text_panel(clients, sms_gateway, "4", sid=sid)
    pump()
    texts = len(sms_gateway.messages)
    text_panel(clients, sms_gateway, "4", sid=sid)  # the same signed request, replayed
    pump()
    assert len(sms_gateway.messages) == texts
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SavedAnswer)) == 1
    # The member's next (new) reply answers the next question, not the first one again.
    text_panel(clients, sms_gateway, "2")
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        saved = dict(session.execute(select(Question.code, SavedAnswer.value).join(
            SavedAnswer, SavedAnswer.question_id == Question.id)).all())
    assert saved == {"feel_safe": "4", "priority": "Police patrols"}
