"""CSRF protection of every form of every service (Flask-WTF), and the Flask session behind it.

Every POST to a page needs the form's `csrf_token`; the JSON API (bearer keys, no cookies) and
the SMS gateway's webhooks (signed by the gateway) are not forms and are left out, and so are
forms whose address is itself the secret (a citizen's answer form at /r/<token>: see
`secret_link_form`). Each service
names its own session cookie, since the three share one host name (locally 127.0.0.1 on three
ports, which cookies do not tell apart). A form whose token has gone (a browser that dropped
its cookies, a copy of the page kept open across a restart) is not lost: the page says so and
offers what was typed, with a fresh token, to send again. Only a form posted from one of the
platform's own pages is offered back: a form forged on another site would otherwise come back
with a valid token for the signed-in person to send, one click from doing what the forger chose.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from shared.console import service_url
from shared.unavailable import form_to_send_again

csrf = CSRFProtect()
# Paths that are not forms a browser posts: bearer-key APIs and signed gateway webhooks.
NOT_FORMS = ("/api/", "/sms/")
SECRET_LINK_FORMS = "csrf_secret_link_forms"


def secret_link_form(app: Flask, endpoint: str) -> None:
    """A form that carries no authority from cookies, only from the unguessable secret in its
    own address: a cross-site page can post it only with a link it already holds, and whoever
    holds the link can post it from anywhere, so a CSRF token adds no protection to it
    (docs/architecture.md, "CSRF and the answer form")."""
    app.extensions.setdefault(SECRET_LINK_FORMS, set()).add(endpoint)


def init_csrf(app: Flask) -> None:
    production = app.config["CIVICPANEL_ENV"] == "production"
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,
        # A citizen may take an evening over a survey: the token lasts as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_NAME=f"civicpanel_{app.config['SERVICE_NAME']}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
    )
    csrf.init_app(app)
    app.before_request(_protect_forms)
    app.register_error_handler(CSRFError, _form_expired)


def _protect_forms() -> None:
    if request.path.startswith(NOT_FORMS):
        return
    if request.endpoint in current_app.extensions.get(SECRET_LINK_FORMS, ()):
        return
    csrf.protect()


def _form_expired(error: CSRFError):
    if request.url_rule is not None and posted_from_our_pages():
        return form_to_send_again(
            "Your form could not be sent", 400,
            "This page had been open too long, or your browser did not keep this site's cookie.",
            "Nothing you typed is lost: send it again from here.")
    return render_template("unavailable.html", heading="Your form could not be sent", kept=None,
                           paragraphs=(
                               "It did not come from one of this service's pages, or your "
                               "browser did not keep this site's cookie.",
                               "Go back to the page, reload it and fill the form in again.")), 400


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def posted_from_our_pages() -> bool:
    """Whether the browser says this POST came from a page of the platform's own services
    (its Origin header; Sec-Fetch-Site where a browser sends no Origin)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    ours = {_origin(request.host_url)} | {
        _origin(service_url(service)) for service in ("panel", "surveys", "feedback")}
    return origin.lower() in ours
