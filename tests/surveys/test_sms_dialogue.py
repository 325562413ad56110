"""Answering by SMS dialogue: a question a text, messy replies read, each answer kept on arrival."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.surveys.demo import demo_survey
from services.surveys.models import Answer, Question, Response, SavedAnswer
from services.surveys.sms_dialogue import read_reply
from shared.db import new_session
from tests.surveys.steps import delivered, drawn, from_panel, launch, member

DIALOGUE_QUESTIONS = [
    {"code": "feel_safe", "type": "rating", "text": "How safe do you feel after dark?",
     "scale": {"min": 1, "max": 5, "labels": ["Very unsafe", "Fairly unsafe", "Neither",
                                              "Fairly safe", "Very safe"]}},
    {"code": "priority", "type": "single_choice", "text": "What should we spend most on?",
     "options": ["Street lighting", "Police patrols", "Welfare services"]},
    {"code": "victim", "type": "yes_no", "text": "Were you a victim of crime this year?"},
    {"code": "reported", "type": "yes_no", "text": "Did you report it?",
     "show_if": {"question": "victim", "in": ["yes"]}},
    {"code": "visits", "type": "number", "text": "How many evenings a week are you in town?",
     "min": 0, "max": 7},
    {"code": "comments", "type": "free_text", "text": "Anything else?", "required": False},
]


def reply(pump, member_ref: str, body: str, provider_id: str | None = None) -> None:
    from_panel(pump, "surveys.sms_reply", {"member_ref": member_ref, "body": body,
                                           "received_at": datetime.now(UTC),
                                           "provider_id": provider_id})


def texts_to(app, member_ref: str) -> list[str]:
    return [r["text"] for r in delivered(app, "dialogue") if r["member_ref"] == member_ref]


def saved(app) -> dict[str, str]:
    with app.app_context(), new_session() as session:
        return dict(session.execute(
            select(Question.code, Answer.value).join(Answer, Answer.question_id == Question.id)
        ).all())


def start_dialogue(apps, clients, pump, language: str = "en", **changes):
    survey_id, officer, keys = launch(apps, clients, pump, channels=["web", "sms_dialogue"],
                                      questions=DIALOGUE_QUESTIONS, **changes)
    texter = member("sms", language=language)
    drawn(pump, survey_id, [texter])
    return survey_id, texter["member_ref"]


def test_the_same_reply_reaching_surveys_twice_is_read_once(apps, clients, pump):
    app = apps["surveys"]
    _, ref = start_dialogue(apps, clients, pump)
    # Two messages (two message ids) carrying one inbound SMS, e.g. sent by panel twice.
    reply(pump, ref, "4", provider_id="SM" + "5" * 32)
    reply(pump, ref, "4", provider_id="SM" + "5" * 32)
    assert len(texts_to(app, ref)) == 2  # the first question, then the second once
    assert "What should we spend most on?" in texts_to(app, ref)[-1]
    reply(pump, ref, "2", provider_id="SM" + "6" * 32)
    assert "Were you a victim" in texts_to(app, ref)[-1]
    with app.app_context(), new_session() as session:
        assert len(session.scalars(select(SavedAnswer)).all()) == 2


def test_sms_dialogue_is_completed_with_messy_replies(apps, clients, pump):
    app = apps["surveys"]
    survey_id, ref = start_dialogue(apps, clients, pump)
    first = texts_to(app, ref)
    assert len(first) == 1 and first[0].startswith("Q1/")
    assert "How safe do you feel after dark?" in first[0] and "1 to 5" in first[0]

    reply(pump, ref, " 4 ")
    assert "Reply 1 Street lighting, 2 Police patrols, 3 Welfare services" in texts_to(app, ref)[-1]
    reply(pump, ref, "dunno")  # unreadable: asked again, with the hint
    again = texts_to(app, ref)[-1]
    assert again.startswith("Sorry, we could not read that.")
    assert "What should we spend most on?" in again and "Reply 1 Street lighting" in again
    reply(pump, ref, "two")
    reply(pump, ref, "Y")
    assert "Did you report it?" in texts_to(app, ref)[-1]  # shown because of "yes"
    reply(pump, ref, "no")
    reply(pump, ref, "nine")  # out of 0-7: asked again
    assert texts_to(app, ref)[-1].startswith("Sorry")
    reply(pump, ref, "3")
    assert "Reply SKIP to skip it." in texts_to(app, ref)[-1]
    reply(pump, ref, "SKIP")

    assert texts_to(app, ref)[-1].startswith("Thank you, your answers are saved.")
    assert saved(app) == {"feel_safe": "4", "priority": "Police patrols", "victim": "yes",
                          "reported": "no", "visits": "3"}
    with app.app_context(), new_session() as session:
        assert session.scalar(select(Response.channel)) == "sms"
    # A text after the end starts nothing and changes nothing.
    reply(pump, ref, "5")
    assert texts_to(app, ref)[-1].startswith("Thank you")
    assert saved(app)["feel_safe"] == "4"


def test_each_sms_answer_is_kept_as_it_arrives_and_the_dialogue_resumes_after_a_pause(
        apps, clients, pump):
    app = apps["surveys"]
    _, ref = start_dialogue(apps, clients, pump)
    reply(pump, ref, "5")
    reply(pump, ref, "Street lighting")
    with app.app_context(), new_session() as session:
        kept = dict(session.execute(select(Question.code, SavedAnswer.value).join(
            SavedAnswer, SavedAnswer.question_id == Question.id)).all())
    assert kept == {"feel_safe": "5", "priority": "Street lighting"}
    # Days later the member picks up where they left off.
    reply(pump, ref, "Nope")
    assert "Did you report it?" not in texts_to(app, ref)[-1]  # skipped by show-if
    assert "evenings a week" in texts_to(app, ref)[-1]


def test_skip_is_refused_for_a_required_question(apps, clients, pump):
    app = apps["surveys"]
    _, ref = start_dialogue(apps, clients, pump)
    reply(pump, ref, "skip")
    assert texts_to(app, ref)[-1].startswith("This one needs an answer.")
    assert "How safe do you feel after dark?" in texts_to(app, ref)[-1]


def test_the_member_is_asked_in_their_language(apps, clients, pump):
    questions = [dict(q) for q in DIALOGUE_QUESTIONS]
    questions[0] = {**questions[0], "translations": {"cy": {
        "text": "Pa mor ddiogel ydych chi'n teimlo ar ôl iddi dywyllu?",
        "labels": ["Anniogel iawn", "Eithaf anniogel", "Y naill na'r llall", "Eithaf diogel",
                   "Diogel iawn"]}}}
    survey_id, officer, _ = launch(apps, clients, pump, channels=["web", "sms_dialogue"],
                                   questions=questions, languages=["en", "cy"],
                                   translations={"cy": {
                                       "title": "Teimlo'n ddiogel yng nghanol y dref",
                                       "summary": "Helpwch y bartneriaeth i benderfynu."}})
    texter = member("sms", language="cy")
    drawn(pump, survey_id, [texter])
    first = texts_to(apps["surveys"], texter["member_ref"])[0]
    assert "Pa mor ddiogel ydych chi'n teimlo" in first and "Anniogel iawn" in first


@pytest.mark.parametrize(("body", "expected"), [
    ("2", "Police patrols"), (" 2 ", "Police patrols"), ("two", "Police patrols"),
    ("TWO.", "Police patrols"), ("police patrols", "Police patrols"), ("street", "Street lighting"),
])
def test_single_choice_replies_are_read_leniently(body, expected):
    question = Question(code="priority", type="single_choice", text="Spend on?",
                        options=["Street lighting", "Police patrols", "Welfare services"],
                        required=True, translations={})
    assert read_reply(question, body).value == expected


def demo_priority_question() -> Question:
    """The demo survey's spending question, with Welsh options."""
    definition = next(q for q in demo_survey(date.today())["questions"]
                      if q["code"] == "spend_priority")
    return Question(code=definition["code"], type="single_choice", text=definition["text"],
                    options=definition["options"], required=True, translations={"cy": {
                        "text": "Ar beth ddylai'r bartneriaeth wario fwyaf?",
                        "options": ["Goleuadau stryd gwell", "Mwy o batrolau heddlu",
                                    "Gwasanaethau iechyd a lles hwyr y nos"]}})


@pytest.mark.parametrize(("body", "language", "expected"), [
    ("lighting", "en", "Better street lighting"), ("street", "en", "Better street lighting"),
    ("Street lights!", "en", "Better street lighting"),
    ("the lighting please", "en", "Better street lighting"),
    ("police", "en", "More police patrols"), ("Patrols.", "en", "More police patrols"),
    ("more patrols", "en", "More police patrols"),
    ("health", "en", "Late-night health and welfare services"),
    ("welfare services", "en", "Late-night health and welfare services"),
    ("late night", "en", "Late-night health and welfare services"),
    ("goleuadau", "cy", "Better street lighting"), ("stryd", "cy", "Better street lighting"),
    ("heddlu", "cy", "More police patrols"),
    ("lles", "cy", "Late-night health and welfare services"),
    ("lighting", "cy", "Better street lighting"),  # the English words still count
])
def test_a_reply_naming_an_options_words_chooses_that_option(body, language, expected):
    assert read_reply(demo_priority_question(), body, language).value == expected


@pytest.mark.parametrize("body", ["street police", "lighting and patrols", "the", "buses"])
def test_a_reply_matching_no_option_or_several_is_asked_again_with_the_hint(body):
    reading = read_reply(demo_priority_question(), body)
    assert reading.value is None and reading.problem == "Sorry, we could not read that."


def test_a_word_two_options_share_chooses_neither():
    question = Question(code="fix", type="single_choice", text="Fix first?",
                        options=["Street lighting", "Street cleaning"], required=True,
                        translations={})
    assert read_reply(question, "street").problem
    assert read_reply(question, "cleaning").value == "Street cleaning"


@pytest.mark.parametrize(("body", "expected"), [
    ("Yes", "yes"), ("y", "yes"), (" YEP ", "yes"), ("no", "no"), ("N", "no"), ("nah", "no")])
def test_yes_no_replies_are_read_leniently(body, expected):
    question = Question(code="victim", type="yes_no", text="Victim?", options=[], required=True,
                        translations={})
    assert read_reply(question, body).value == expected


def test_a_reply_that_cannot_be_read_gets_a_problem_not_a_guess():
    question = Question(code="feel", type="rating", text="Safe?", options=[], required=True,
                        scale_min=1, scale_max=5, scale_labels=[], translations={})
    assert read_reply(question, "7").problem and read_reply(question, "lots").problem
    assert read_reply(question, "four").value == "4"
