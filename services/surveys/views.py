"""Pages: a citizen's survey behind their link, the thank-you page, the fieldwork monitor."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from services.surveys.api import sponsored_survey_or_404
from services.surveys.fieldwork import monitor
from services.surveys.models import Agency, Invitation, Response, Survey
from services.surveys.questions import choices, read_answers, text_in
from services.surveys.responding import (
    AlreadyAnswered,
    asked_questions,
    save_progress,
    save_response,
    saved_answers,
)
from shared.auth import require_role
from shared.db import get_session

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


def _invitation_or_page(token: str):
    # One query for the link, its survey and whether it was answered: the busiest path.
    found = get_session().execute(
        select(Invitation, Survey, Response.id)
        .join(Survey, Survey.id == Invitation.survey_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.token == token)
    ).first()
    if found is None:
        return None, None, _unknown_link()
    invitation, survey, answered = found
    if answered:
        return None, None, _already_answered()
    ended = survey.fieldwork_end is not None and survey.fieldwork_end < date.today()
    if survey.status == "fieldwork" and ended:
        return None, None, message_page(
            410, "This link has expired",
            f"The survey took answers until {survey.fieldwork_end.strftime('%-d %B %Y')}.",
            "Thank you for your interest. We will tell the panel what was decided and why.")
    if survey.status != "fieldwork":
        return None, None, message_page(
            410, "This survey has closed",
            "It is no longer taking answers. Thank you for your interest.")
    return invitation, survey, None


def _condition(survey: Survey, question, language: str) -> str | None:
    """When a show-if question applies, in words (what a page without JavaScript shows)."""
    rule = question.show_if
    if not rule:
        return None
    earlier = next((q for q in survey.questions if q.code == rule["question"]), None)
    if earlier is None:
        return None
    labels = dict(choices(earlier, language))
    wanted = " or ".join(f"“{labels.get(value, value)}”" for value in rule["in"])
    return f"Answer this only if you answered {wanted} to “{text_in(earlier, language)}”."


def _render_form(survey: Survey, invitation: Invitation, values: dict, errors: dict,
                 status: int = 200, saved: bool = False):
    names = dict(get_session().execute(select(Agency.slug, Agency.name)).all())
    sponsor_names = ", ".join(names.get(s.agency, s.agency) for s in survey.sponsors)
    language = invitation.language if invitation.language in survey.languages else "en"
    closes = survey.fieldwork_end.strftime("%-d %B %Y") if survey.fieldwork_end else \
        "the survey closes"
    return render_template(
        "respond.html", survey=survey, values=values, errors=errors, has_errors=bool(errors),
        choices={q.code: choices(q, language) for q in survey.questions},
        texts={q.code: text_in(q, language) for q in survey.questions},
        conditions={q.code: _condition(survey, q, language) for q in survey.questions
                    if q.show_if},
        sponsor_names=sponsor_names, saved=saved, closes=closes,
    ), status


def _given(questions: list) -> dict:
    """What the form holds, per question: a list for multiple choice, else the text."""
    return {q.code: (request.form.getlist(q.code) if q.type == "multiple_choice"
                     else request.form.get(q.code, ""))
            for q in questions}


@pages.get("/r/<token>")
def respond(token: str):
    invitation, survey, page = _invitation_or_page(token)
    if page:
        return page
    values = saved_answers(get_session(), invitation, asked_questions(get_session(), survey))
    return _render_form(survey, invitation, values, {})


@pages.post("/r/<token>")
def submit(token: str):
    invitation, survey, page = _invitation_or_page(token)
    if page:
        return page
    session = get_session()
    questions = asked_questions(session, survey)
    given = _given(questions)
    if request.form.get("action") == "save":
        answers, errors = read_answers(questions, given, partial=True)
        if errors:
            return _render_form(survey, invitation, given, errors, status=422)
        save_progress(session, invitation, questions, answers)
        session.commit()
        return _render_form(survey, invitation, given, {}, saved=True)
    answers, errors = read_answers(questions, given)
    if errors:
        return _render_form(survey, invitation, given, errors, status=422)
    try:
        save_response(session, invitation, questions, answers)
    except AlreadyAnswered:
        return _already_answered()
    return redirect(url_for("pages.thanks", token=token), code=303)


@pages.get("/r/<token>/thanks")
def thanks(token: str):
    session = get_session()
    invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        return _unknown_link()
    if not session.scalar(select(Response.id).where(Response.invitation_id == invitation.id)):
        return redirect(url_for("pages.respond", token=token), code=303)
    return render_template("thanks.html", survey=session.get(Survey, invitation.survey_id))


@pages.get("/surveys/<int:survey_id>/fieldwork")
@require_role()
def fieldwork_page(survey_id: int):
    """The fieldwork monitor as a page, for the survey's sponsors."""
    session = get_session()
    survey = sponsored_survey_or_404(session, survey_id)
    return render_template("fieldwork.html", survey=survey, figures=monitor(session, survey))

