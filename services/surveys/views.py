"""Pages citizens see: the survey behind their invitation link, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from services.surveys.models import Agency, Invitation, Response, Survey
from services.surveys.responding import AlreadyAnswered, choices, read_answers, save_response
from shared.db import get_session

pages = Blueprint("pages", __name__, template_folder="templates")


def message_page(status: int, heading: str, *paragraphs: str):
    return render_template("message_page.html", heading=heading, paragraphs=paragraphs), status


def _already_answered():
    return message_page(409, "You have already answered this survey",
                        "Thank you: your answers were saved the first time, and only once.",
                        "We will tell you what was decided and why.")


def _invitation_or_page(token: str):
    session = get_session()
    invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        return None, None, message_page(
            404, "This link is not recognised",
            "Check that you copied the whole link from your message.")
    survey = session.get(Survey, invitation.survey_id)
    answered = session.scalar(select(Response.id).where(Response.invitation_id == invitation.id))
    if answered:
        return None, None, _already_answered()
    if survey.status != "fieldwork":
        return None, None, message_page(
            410, "This survey has closed",
            "It is no longer taking answers. Thank you for your interest.")
    return invitation, survey, None


def _render_form(survey: Survey, values: dict, errors: dict, status: int = 200):
    names = dict(get_session().execute(select(Agency.slug, Agency.name)).all())
    sponsor_names = ", ".join(names.get(s.agency, s.agency) for s in survey.sponsors)
    return render_template(
        "respond.html", survey=survey, values=values, errors=errors, has_errors=bool(errors),
        choices={q.code: choices(q) for q in survey.questions}, sponsor_names=sponsor_names,
    ), status


@pages.get("/r/<token>")
def respond(token: str):
    invitation, survey, page = _invitation_or_page(token)
    if page:
        return page
    return _render_form(survey, {}, {})


@pages.post("/r/<token>")
def submit(token: str):
    invitation, survey, page = _invitation_or_page(token)
    if page:
        return page
    answers, errors = read_answers(survey.questions, request.form)
    if errors:
        return _render_form(survey, request.form, errors, status=422)
    try:
        save_response(get_session(), invitation, survey.questions, answers)
    except AlreadyAnswered:
        return _already_answered()
    return redirect(url_for("pages.thanks", token=token), code=303)


@pages.get("/r/<token>/thanks")
def thanks(token: str):
    session = get_session()
    invitation = session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None:
        return message_page(404, "This link is not recognised",
                            "Check that you copied the whole link from your message.")
    if not session.scalar(select(Response.id).where(Response.invitation_id == invitation.id)):
        return redirect(url_for("pages.respond", token=token), code=303)
    return render_template("thanks.html", survey=session.get(Survey, invitation.survey_id))
