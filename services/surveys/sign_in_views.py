"""The console's sign-in pages: ask for an emailed link, follow it, continue into the console.

Following the link shows a button rather than signing in at once: mail scanners open links
before people do, and a single-use link opened by a scanner would be spent. Agencies with their
own identity provider also get a button that signs in there (services/surveys/oidc_sign_in.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request
from marshmallow import validate

from services.surveys.oidc_sign_in import (
    begin_oidc_sign_in,
    finish_oidc_sign_in,
    identity_providers,
    sign_in_buttons,
)
from services.surveys.staff_users import (
    SignInSettings,
    email_sign_in_link,
    redeem_sign_in_link,
    start_session,
)
from shared.console import hand_over_staff_session, safe_next_url, staff_sessions
from shared.db import get_session
from shared.service import bus

sign_in = Blueprint("sign_in", __name__, template_folder="templates")
_is_email = validate.Email()


def _settings() -> SignInSettings:
    return SignInSettings.from_config(current_app.config)


@sign_in.get("/sign-in")
def start():
    return render_template("sign_in/start.html", errors={}, email="",
                           next_url=safe_next_url(request.args.get("next")),
                           signed_out=request.args.get("signed_out") == "1",
                           providers=sign_in_buttons(get_session(), identity_providers()))


@sign_in.post("/sign-in")
def ask_for_link():
    email = request.form.get("email", "").strip()[:320]
    next_url = safe_next_url(request.form.get("next"))
    problem = _email_problem(email)
    if problem:
        return render_template("sign_in/start.html", errors={"email": [problem]}, email=email,
                               next_url=next_url, signed_out=False,
                               providers=sign_in_buttons(get_session(), identity_providers())), 400
    email_sign_in_link(get_session(), bus(), current_app.extensions["redis"], _settings(),
                       email=email, address=request.remote_addr or "", next_url=next_url)
    return render_template("sign_in/check_email.html", email=email)


def _email_problem(email: str) -> str | None:
    if not email:
        return "Enter your work email address"
    try:
        _is_email(email)
    except validate.ValidationError:
        return "Enter an email address in the right format, like name@example.gov.uk"
    return None


@sign_in.get("/sign-in/<token>")
def follow_link(token: str):
    return render_template("sign_in/continue.html")


@sign_in.post("/sign-in/<token>")
def finish(token: str):
    session = get_session()
    user = redeem_sign_in_link(session, current_app.extensions["redis"], _settings(), token)
    session_id = start_session(session, staff_sessions(), user, how="email link")
    response = redirect(safe_next_url(request.args.get("next")), code=303)
    hand_over_staff_session(response, session_id)
    return response


@sign_in.get("/sign-in/oidc/<agency>")
def oidc_start(agency: str):
    return begin_oidc_sign_in(identity_providers(), agency,
                              safe_next_url(request.args.get("next")))


@sign_in.get("/sign-in/oidc/<agency>/callback")
def oidc_callback(agency: str):
    signed_in = finish_oidc_sign_in(get_session(), staff_sessions(), identity_providers(), agency)
    response = redirect(safe_next_url(signed_in.next_url), code=303)
    hand_over_staff_session(response, signed_in.session_id)
    return response
