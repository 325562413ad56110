"""Pages: a citizen's survey behind their link, the thank-you page, the fieldwork monitor."""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from services.surveys.models import Invitation, Response, Survey
from services.surveys.monitor_charts import fieldwork_view
from services.surveys.questions import choices, read_answers
from services.surveys.responding import (
    LANGUAGE_FIELD,
    QUESTIONNAIRE_FIELD,
    AlreadyAnswered,
    Link,
    asked_questions,
    cached_questions,
    find_link,
    keep_progress,
    page_language,
    read_questionnaire_version,
    respond_page_context,
    save_response,
    save_response_at_once,
    saved_answers,
    thanks_context,
)
from shared.auth import current_caller
from shared.console import staff_page
from shared.db import autocommit_statement, get_session
from shared.profile import LANGUAGES
from shared.statuses import SurveyStatus
from shared.unavailable import DATABASE_UNAVAILABLE, unavailable_page

log = logging.getLogger(__name__)

pages = Blueprint("pages", __name__, template_folder="templates")


def message_page(status: int, heading: str, *paragraphs: str):
    return render_template("message_page.html", heading=heading, paragraphs=paragraphs), status


def _already_answered():
    return message_page(409, "You have already answered this survey",
                        "Thank you: your answers were saved the first time, and only once.",
                        "We will tell you what was decided and why.")


def _unknown_link():
    return message_page(404, "This link is not recognised",
                        "Check that you copied the whole link from your message.")


def _link_or_page(token: str) -> tuple[Link | None, tuple | None]:
    """The link behind the token, or the page to show instead of its survey."""
    link = find_link(get_session(), token)
    if link is None:
        return None, _unknown_link()
    if link.answered:
        return None, _already_answered()
    ended = link.fieldwork_end is not None and link.fieldwork_end < date.today()
    if link.survey_status == SurveyStatus.FIELDWORK and ended:
        return None, message_page(
            410, "This link has expired",
            f"The survey took answers until {link.fieldwork_end.strftime('%-d %B %Y')}.",
            "Thank you for your interest. We will tell the panel what was decided and why.")
    if link.survey_status != SurveyStatus.FIELDWORK:
        return None, message_page(
            410, "This survey has closed",
            "It is no longer taking answers. Thank you for your interest.")
    return link, None


def _render_form(survey: Survey, invitation: Invitation, values: dict, errors: dict,
                 status: int = 200, saved: bool = False):
    return render_template(
        "respond.html", **respond_page_context(get_session(), survey,
                                               page_language(survey, invitation)),
        values=values, errors=errors, has_errors=bool(errors), saved=saved,
    ), status


def _given(questions: list) -> dict:
    """What the form holds, per question: a list for multiple choice, else the text."""
    return {q.code: (request.form.getlist(q.code) if q.type == "multiple_choice"
                     else request.form.get(q.code, ""))
            for q in questions}


def _render_link_form(link: Link, values: dict, errors: dict, status: int = 200,
                      saved: bool = False):
    session = get_session()
    return _render_form(session.get(Survey, link.survey_id),
                        session.get(Invitation, link.invitation_id), values, errors,
                        status=status, saved=saved)


@pages.get("/r/<token>")
def respond(token: str):
    link, page = _link_or_page(token)
    if page:
        return page
    session = get_session()
    values = saved_answers(session, session.get(Invitation, link.invitation_id),
                           asked_questions(session, link))
    return _render_link_form(link, values, {})


def _saved_at_once(token: str) -> bool:
    """A whole, valid response to the launch of the survey the page showed, saved in one
    statement without reading the link first; False sends the caller the long way."""
    version = read_questionnaire_version(request.form.get(QUESTIONNAIRE_FIELD, ""))
    questions = cached_questions(*version) if version else None
    if questions is None or request.form.get("action") == "save":
        return False
    answers, errors = read_answers(questions, _given(questions))
    if errors:
        return False
    language = request.form.get(LANGUAGE_FIELD)
    language = language if language in LANGUAGES else "en"
    return autocommit_statement(lambda connection: save_response_at_once(
        connection, token, version, questions, answers, language=language))


@pages.post("/r/<token>")
def submit(token: str):
    try:
        return _submit(token)
    except DATABASE_UNAVAILABLE:
        # Not the address: its token is the respondent's key to the form.
        log.warning("answers not saved: the database is unavailable", exc_info=True)
        return _answers_kept(token)


def _answers_kept(token: str):
    """The 503 page when the answers could not be saved: built from what was posted alone (and
    the questions, if this process has them), with the answers in a form to send again."""
    kept = [(name, value) for name in request.form for value in request.form.getlist(name)]
    version = read_questionnaire_version(request.form.get(QUESTIONNAIRE_FIELD, ""))
    questions = (cached_questions(*version) if version else None) or []
    summary = []
    for question in questions:
        labels = dict(choices(question))
        given = [labels.get(value, value) for value in request.form.getlist(question.code)
                 if value.strip()]
        if given:
            summary.append((question.text, ", ".join(given)))
    return unavailable_page(
        "Your answers are not saved yet",
        "Sorry, we could not save them just now: the service is having a problem.",
        "They are kept on this page. Send them again in a minute or two.",
        kept=kept, summary=summary, action=url_for("pages.submit", token=token))


def _submit(token: str):
    try:
        if _saved_at_once(token):
            return redirect(url_for("pages.thanks", token=token), code=303)
    except AlreadyAnswered:
        return _already_answered()
    link, page = _link_or_page(token)
    if page:
        return page
    questions = asked_questions(get_session(), link)
    if request.form.get("action") == "save":
        return _save_for_later(link, questions)
    given = _given(questions)
    answers, errors = read_answers(questions, given)
    if errors:
        return _render_link_form(link, given, errors, status=422)
    try:
        save_response(get_session(), link, questions, answers)
    except AlreadyAnswered:
        return _already_answered()
    return redirect(url_for("pages.thanks", token=token), code=303)


def _save_for_later(link: Link, questions: list):
    """The form again, with what was given kept (or what is wrong with it named)."""
    given = _given(questions)
    answers, errors = read_answers(questions, given, partial=True)
    if errors:
        return _render_link_form(link, given, errors, status=422)
    keep_progress(get_session(), link=link, questions=questions, answers=answers)
    return _render_link_form(link, given, {}, saved=True)


@pages.get("/r/<token>/thanks")
def thanks(token: str):
    session = get_session()
    invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        return _unknown_link()
    if not session.scalar(select(Response.id).where(Response.invitation_id == invitation.id)):
        return redirect(url_for("pages.respond", token=token), code=303)
    return render_template("thanks.html", **thanks_context(
        session.get(Survey, invitation.survey_id), invitation))


@pages.get("/surveys/<int:survey_id>/fieldwork")
@staff_page()
def fieldwork_page(survey_id: int):
    """The fieldwork monitor as a page, for the survey's sponsors."""
    caller = current_caller()
    view = fieldwork_view(get_session(), agency=caller.agency, survey_id=survey_id,
                          role=caller.role)
    return render_template("fieldwork.html", survey=view.survey, figures=view.figures,
                           view=view)

