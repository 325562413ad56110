"""The security headers of every page and API answer of every service, set in one place.

A personal page is one whose address carries a member's token (`/r/<token>`, `/you/<token>`,
`/u/<token>`, `/join/confirm/<token>`): the address is the member's key, so it is never sent
on as a referrer nor kept in a cache. A staff page (one shown to a signed-in member of staff)
shows agency and personal data, so it is never kept in a cache either: not by a shared proxy,
not by the browser for the back button after signing out.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

HSTS = "max-age=31536000; includeSubDomains"
PERSONAL_PAGE_ARGUMENT = "token"


@cache
def content_security_policy(*service_urls: str) -> str:
    """No inline script or style anywhere (the pages' only script is a static file). Forms go
    to this service or to another of the three: browsers hold a form's redirect to the policy
    too, and signing out of panel's page ends on surveys' sign-in page, another origin when
    the services run on three ports."""
    origins = sorted({"{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in service_urls
                      if url.startswith(("http://", "https://"))})
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "font-src 'self'", "object-src 'none'", "base-uri 'none'",
        " ".join(("form-action", "'self'", *origins)), "frame-ancestors 'none'"))
def is_personal_page() -> bool:
    rule = request.url_rule
    return rule is not None and PERSONAL_PAGE_ARGUMENT in rule.arguments


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    config = current_app.config
    headers.setdefault("Content-Security-Policy", content_security_policy(
        config["PANEL_URL"], config["SURVEYS_URL"], config["FEEDBACK_URL"]))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    if is_personal_page():
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if g.get("staff") is not None:  # set by shared.console for a signed-in member of staff
        headers["Cache-Control"] = "no-store"
    if config["CIVICPANEL_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
