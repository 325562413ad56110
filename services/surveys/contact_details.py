"""Contact details kept out of surveys: free-text answers are cleaned before they are saved
(by web and by SMS), the respond page says so, and the officer sees how many were removed.

The words are English here and translated through surveys' catalogue
(translations/<language>/LC_MESSAGES/messages.po, read by shared/catalogues.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Answer, Question, Response, SavedAnswer
from shared.catalogues import N_, translations
from shared.free_text import count_removed, remove_contact_details
from shared.profile import LANGUAGES

SURVEYS_DIR = Path(__file__).parent
PLACEHOLDER_TEXTS = {
    "email": N_("[email address removed]"),
    "link": N_("[web link removed]"),
    "phone": N_("[phone number removed]"),
    "postcode": N_("[postcode removed]"),
}
NOTICE = N_("Do not include your name or contact details. Email addresses, phone numbers, "
            "postcodes and web links are removed from your answer before it is saved.")
KIND_NAMES = {"email": "email addresses", "link": "web links", "phone": "phone numbers",
              "postcode": "postcodes"}


def placeholders(language: str) -> dict[str, str]:
    say = translations(SURVEYS_DIR, language).gettext
    return {kind: say(text) for kind, text in PLACEHOLDER_TEXTS.items()}


def notice(language: str) -> str:
    """What the respond page says, above its free-text boxes, before anything is sent."""
    return translations(SURVEYS_DIR, language).gettext(NOTICE)


def clean_answers(questions: list, answers: dict, language: str) -> dict:
    """The answers with contact details taken out of every free-text one."""
    free = {q.code for q in questions if q.type == "free_text"}
    if not free.intersection(answers):
        return answers
    words = placeholders(language)
    return {code: (remove_contact_details(value, words).text
                   if code in free and isinstance(value, str) else value)
            for code, value in answers.items()}


def clean_text(text: str, language: str) -> str:
    return remove_contact_details(text, placeholders(language)).text


def removals(session: Session, survey_id: int) -> Counter:
    """How many contact details of each kind were taken out of the survey's free-text answers
    (sent and kept for later), read from their placeholders in every language."""
    words = [placeholders(language) for language in LANGUAGES]
    free = select(Question.id).where(Question.survey_id == survey_id,
                                     Question.type == "free_text")
    sent = select(Answer.value).join(Response, Response.id == Answer.response_id).where(
        Response.survey_id == survey_id, Answer.question_id.in_(free), Answer.value.contains("["))
    kept = select(SavedAnswer.value).where(SavedAnswer.question_id.in_(free),
                                           SavedAnswer.value.contains("["))
    found: Counter = Counter()
    for value in [*session.scalars(sent), *session.scalars(kept)]:
        found.update(count_removed(value or "", words))
    return found
