"""A survey as its members will meet it, shown to its sponsors before (and after) launch: the
web form exactly as a citizen sees it, the SMS dialogue as a transcript, and the invitation
email sent to the officer's own address. Nothing a preview does is saved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.surveys.lifecycle import agency_names, invitation_context
from services.surveys.models import Survey
from services.surveys.queries import sponsored_survey
from services.surveys.questions import condition_text, read_answers
from services.surveys.responding import respond_page_context
from services.surveys.sms_dialogue import question_text, words
from shared.bus import Bus
from shared.profile import LANGUAGE_LABELS
from shared.staff import StaffMember


def language_of(survey: Survey, asked: str | None) -> str:
    return asked if asked in survey.languages else "en"


def preview_page(session: Session, *, agency: str, survey_id: int,
                 language: str | None = None) -> dict:
    """What the respond template needs to show a sponsored survey as a citizen would see it."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    chosen = language_of(survey, language)
    return {**respond_page_context(session, survey, chosen), "language": chosen,
            "languages": [(code, LANGUAGE_LABELS.get(code, code)) for code in survey.languages]}


def check_preview_answers(session: Session, *, agency: str, survey_id: int, form,
                          language: str | None = None) -> dict:
    """The preview again with what was sent and the errors a citizen sending it would be
    shown (`errors`), as the respond page reads a form; nothing is kept."""
    page = preview_page(session, agency=agency, survey_id=survey_id, language=language)
    questions = list(page["survey"].questions)
    given = {q.code: (form.getlist(q.code) if q.type == "multiple_choice"
                      else form.get(q.code, "")) for q in questions}
    _, errors = read_answers(questions, given)
    return {**page, "values": given, "errors": errors}


@dataclass(frozen=True)
class Text:
    """One message of the SMS dialogue: from the panel (the survey) or what a member might
    reply; `note` says when a question is asked only after some answers."""

    sender: str  # "panel" or "member"
    body: str
    note: str | None = None


EXAMPLE_REPLIES = {"single_choice": "1", "rating": None, "yes_no": "YES", "number": None,
                   "free_text": "(their answer in their own words)"}


def example_reply(question) -> str:
    if question.type == "rating":
        return str(question.scale_max)
    if question.type == "number":
        return str(question.min_value if question.min_value is not None else 3)
    return EXAMPLE_REPLIES.get(question.type) or "1"


def sms_transcript(session: Session, *, agency: str, survey_id: int,
                   language: str | None = None) -> tuple[Survey, str, list[Text]]:
    """The survey's SMS dialogue with a member, question by question, in the words panel
    sends; questions asked only after certain answers say so."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    chosen = language_of(survey, language)
    questions = list(survey.questions)
    texts = []
    for position, question in enumerate(questions, 1):
        texts.append(Text("panel", question_text(question, chosen, position, len(questions)),
                          condition_text(questions, question, chosen)))
        texts.append(Text("member", example_reply(question)))
    texts.append(Text("panel", words(chosen)["thanks"]))
    return survey, chosen, texts


def send_test_invitation(session: Session, bus: Bus, *, staff: StaffMember, survey_id: int,
                         preview_url: str) -> str:
    """The survey's invitation email, rendered by panel as members get it, to the officer's
    own address; the link in it leads to the preview. The address it went to."""
    survey = sponsored_survey(session, agency=staff.agency, survey_id=survey_id)
    bus.send(session, "panel.staff_email", {
        "to": staff.email, "template": "invitation", "link": preview_url,
        "context": invitation_context(survey, agency_names(session))})
    session.commit()
    return staff.email
