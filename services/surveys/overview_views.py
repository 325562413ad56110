"""The console's pages of one survey: its overview, preview, launch, close and joint working.

Each page parses, calls one use case (the API's own, with the API's agency and role rules)
and answers; a survey the agency does not sponsor is the 404 page, a co-sponsor asking to
launch or close gets the 403 page with the lead's name.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.surveys import lifecycle, monitor_charts, overview, prelaunch
from services.surveys.fieldwork import ask_for_top_up, remind_now
from services.surveys.joint import answer_agency_invitation, decide_on_request
from services.surveys.joint import ask_to_join as ask_to_join_survey
from services.surveys.lifecycle import SurveyRuleBroken
from services.surveys.preview import (
    check_preview_answers,
    preview_page,
    send_test_invitation,
    sms_transcript,
)
from services.surveys.schemas import JoinDecisionSchema
from shared.audit import current_actor
from shared.auth import current_caller
from shared.bus import utcnow
from shared.charts import svg_headers
from shared.console import signed_in_member, staff_page
from shared.db import get_session
from shared.input_guard import id_from_text
from shared.service import bus, public_url

survey_pages = Blueprint("survey_pages", __name__, template_folder="templates")
WRITERS = overview.WRITERS


@survey_pages.get("/surveys/<int:survey_id>")
@staff_page()
def survey_overview(survey_id: int):
    found = overview.survey_overview(get_session(), staff=signed_in_member(),
                                     survey_id=survey_id)
    return render_template("console/survey/overview.html", o=found, survey=found.survey)


def _launch_page(survey_id: int, errors: dict | None = None, status: int = 200):
    page = prelaunch.launch_page(get_session(), bus(), agency=current_caller().agency,
                                 survey_id=survey_id, today=date.today(), now=utcnow(),
                                 ask=not errors)
    refresh = page.eligibility.refresh_seconds
    return render_template("console/survey/launch.html", check=page.check,
                           survey=page.check.survey, eligible=page.eligibility,
                           errors=errors or {}, has_errors=bool(errors)
                           ), status, {"Refresh": str(refresh)} if refresh else {}


@survey_pages.get("/surveys/<int:survey_id>/launch")
@staff_page(*WRITERS)
def launch_page(survey_id: int):
    return _launch_page(survey_id)


@survey_pages.post("/surveys/<int:survey_id>/launch")
@staff_page(*WRITERS)
def launch(survey_id: int):
    try:
        lifecycle.launch(get_session(), bus(), actor=current_actor(), survey_id=survey_id,
                         today=date.today())
    except SurveyRuleBroken as broken:
        return _launch_page(survey_id, broken.errors, status=422)
    flash("Survey launched: panel is drawing the sample and the invitations will follow.")
    return redirect(url_for("survey_pages.survey_overview", survey_id=survey_id), code=303)


@survey_pages.post("/surveys/<int:survey_id>/launch/count")
@staff_page(*WRITERS)
def count_eligible_again(survey_id: int):
    """"Count again": panel is asked for a new pre-launch count; the launch page waits for it."""
    prelaunch.count_again(get_session(), bus(), agency=current_caller().agency,
                          survey_id=survey_id, now=utcnow())
    return redirect(url_for("survey_pages.launch_page", survey_id=survey_id,
                            _anchor="eligible"), code=303)


@survey_pages.get("/surveys/<int:survey_id>/close")
@staff_page(*WRITERS)
def close_page(survey_id: int):
    survey = overview.close_check(get_session(), agency=current_caller().agency,
                                  survey_id=survey_id)
    return render_template("console/survey/close.html", survey=survey)


@survey_pages.post("/surveys/<int:survey_id>/close")
@staff_page(*WRITERS)
def close(survey_id: int):
    lifecycle.close(get_session(), bus(), actor=current_actor(), survey_id=survey_id)
    flash("Fieldwork closed: the results go to feedback for the report.")
    return redirect(url_for("survey_pages.survey_overview", survey_id=survey_id), code=303)


# -- joint working ---------------------------------------------------------------------


@survey_pages.post("/surveys/<int:survey_id>/join-requests")
@staff_page(*WRITERS)
def ask_to_join(survey_id: int):
    """"Ask to join instead", from an overlap on the asking agency's own survey's page."""
    ask_to_join_survey(get_session(), agency=current_caller().agency, survey_id=survey_id,
                       data={"message": request.form.get("message", "")[:2000],
                             "questions": []})
    flash("Your request to join was sent. The lead agency will approve or refuse it.")
    back = id_from_text(request.form.get("from_survey"))
    if back is not None:
        return redirect(url_for("survey_pages.survey_overview", survey_id=back), code=303)
    return redirect(url_for("console.survey_list"), code=303)


def _decision_page(survey_id: int, request_id: int, errors: dict | None = None,
                   given: dict | None = None):
    found = overview.request_to_decide(get_session(), agency=current_caller().agency,
                                       survey_id=survey_id, request_id=request_id)
    return render_template("console/survey/join_request.html", r=found, survey=found.survey,
                           errors=errors or {}, given=given or {},
                           has_errors=bool(errors)), 422 if errors else 200


@survey_pages.get("/surveys/<int:survey_id>/join-requests/<int:request_id>")
@staff_page(*WRITERS)
def join_request_page(survey_id: int, request_id: int):
    return _decision_page(survey_id, request_id)


def _decision_form() -> tuple[dict | None, dict, dict]:
    """The lead's decision as the API takes it, or the errors naming the fields."""
    shares = {key[len("share-"):]: value.strip() for key, value in request.form.items()
              if key.startswith("share-")}
    try:
        return JoinDecisionSchema().load({
            "approve": request.form.get("decision") == "approve",
            "sponsors": [{"agency": a, "cost_share": s} for a, s in shares.items()]}), {}, shares
    except ValidationError as invalid:
        problems = invalid.messages.get("sponsors", ["Give each cost share as a number."])
        return None, {"shares": _flat(problems)}, shares


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    return [m for value in messages for m in _flat(value)] if isinstance(messages, list) \
        else [str(messages)]


@survey_pages.post("/surveys/<int:survey_id>/join-requests/<int:request_id>")
@staff_page(*WRITERS)
def decide_join_request(survey_id: int, request_id: int):
    decision, errors, given = _decision_form()
    if decision is None:
        return _decision_page(survey_id, request_id, errors, given)
    try:
        decide_on_request(get_session(), agency=current_caller().agency, survey_id=survey_id,
                          request_id=request_id, **decision)
    except SurveyRuleBroken as broken:
        return _decision_page(survey_id, request_id, {"shares": _flat(broken.errors)}, given)
    flash("Request approved: the agency now co-sponsors this survey." if decision["approve"]
          else "Request refused.")
    return redirect(url_for("survey_pages.survey_overview", survey_id=survey_id), code=303)


@survey_pages.get("/surveys/invitations")
@staff_page()
def invitations():
    found = overview.invitations_for(get_session(), agency=current_caller().agency)
    return render_template("console/survey/invitations.html", invitations=found,
                           writer=current_caller().role in WRITERS)


@survey_pages.post("/surveys/invitations/<int:invitation_id>")
@staff_page(*WRITERS)
def answer_invitation(invitation_id: int):
    accept = request.form.get("answer") == "accept"
    answered = answer_agency_invitation(get_session(), agency=current_caller().agency,
                                        invitation_id=invitation_id, accept=accept)
    flash(f"You accepted: your agency now co-sponsors {answered.survey.title}." if accept
          else f"You declined the invitation to co-sponsor {answered.survey.title}.")
    return redirect(url_for("survey_pages.invitations"), code=303)


# -- fieldwork: its charts, and top-up and reminders behind confirmation pages -------------

@survey_pages.get("/surveys/<int:survey_id>/fieldwork/<name>.svg")
@staff_page()
def fieldwork_chart(survey_id: int, name: str):
    svg = monitor_charts.fieldwork_chart(get_session(), agency=current_caller().agency,
                                         survey_id=survey_id, name=name)
    return svg, 200, svg_headers()


def _confirm_page(survey_id: int, action: str):
    caller = current_caller()
    view = monitor_charts.fieldwork_view(get_session(), agency=caller.agency,
                                         survey_id=survey_id, role=caller.role)
    return render_template(f"console/survey/{action}.html", view=view, survey=view.survey)


@survey_pages.get("/surveys/<int:survey_id>/top-up")
@staff_page(*WRITERS)
def top_up_page(survey_id: int):
    return _confirm_page(survey_id, "top_up")


@survey_pages.post("/surveys/<int:survey_id>/top-up")
@staff_page(*WRITERS)
def top_up(survey_id: int):
    _, asked = ask_for_top_up(get_session(), bus(), agency=current_caller().agency,
                              survey_id=survey_id)
    flash(f"Panel was asked for {asked['size']} more members in the cells behind target."
          if asked else "No quota cell is behind target: panel was not asked for more members.")
    return redirect(url_for("pages.fieldwork_page", survey_id=survey_id), code=303)


@survey_pages.get("/surveys/<int:survey_id>/reminders")
@staff_page(*WRITERS)
def reminders_page(survey_id: int):
    return _confirm_page(survey_id, "reminders")


@survey_pages.post("/surveys/<int:survey_id>/reminders")
@staff_page(*WRITERS)
def send_reminders(survey_id: int):
    reminded = remind_now(get_session(), bus(), agency=current_caller().agency,
                          survey_id=survey_id, now=utcnow(),
                          surveys_url=current_app.config["SURVEYS_URL"],
                          batch_size=current_app.config["DELIVERY_BATCH_SIZE"])
    flash(f"A reminder is on its way to {reminded} member{'s' if reminded != 1 else ''} "
          "who have not answered yet.")
    return redirect(url_for("pages.fieldwork_page", survey_id=survey_id), code=303)


# -- preview: the web form as a citizen sees it, the SMS dialogue, a test email ---------------


@survey_pages.get("/surveys/<int:survey_id>/preview")
@staff_page()
def preview(survey_id: int):
    page = preview_page(get_session(), agency=current_caller().agency, survey_id=survey_id,
                        language=request.args.get("lang"))
    return render_template("console/survey/preview.html", **page, values={}, errors={},
                           has_errors=False, saved=False, checked=False)


@survey_pages.post("/surveys/<int:survey_id>/preview")
@staff_page()
def preview_answers(survey_id: int):
    page = check_preview_answers(get_session(), agency=current_caller().agency,
                                 survey_id=survey_id, form=request.form,
                                 language=request.args.get("lang"))
    return render_template("console/survey/preview.html", **page, saved=False,
                           has_errors=bool(page["errors"]), checked=not page["errors"]
                           ), 422 if page["errors"] else 200


@survey_pages.get("/surveys/<int:survey_id>/preview/sms")
@staff_page()
def preview_sms(survey_id: int):
    survey, language, texts = sms_transcript(get_session(), agency=current_caller().agency,
                                             survey_id=survey_id,
                                             language=request.args.get("lang"))
    return render_template("console/survey/preview_sms.html", survey=survey, texts=texts,
                           language=language)


@survey_pages.post("/surveys/<int:survey_id>/preview/test")
@staff_page(*WRITERS)
def send_test(survey_id: int):
    to = send_test_invitation(get_session(), bus(), staff=signed_in_member(),
                              survey_id=survey_id,
                              preview_url=public_url("survey_pages.preview", survey_id=survey_id))
    flash(f"The invitation email is on its way to {to}.")
    return redirect(url_for("survey_pages.preview", survey_id=survey_id), code=303)
