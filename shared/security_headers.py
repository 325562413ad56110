"""The security headers of every page and API answer of every service, set in one place.

A personal page is one whose address carries a member's token (`/r/<token>`, `/you/<token>`,
`/u/<token>`, `/join/confirm/<token>`): the address is the member's key, so it is never sent
on as a referrer nor kept in a cache.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# No inline script or style anywhere: the pages' only script is a static file.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'"))
HSTS = "max-age=31536000; includeSubDomains"
PERSONAL_PAGE_ARGUMENT = "token"


def is_personal_page() -> bool:
    rule = request.url_rule
    return rule is not None and PERSONAL_PAGE_ARGUMENT in rule.arguments


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    if is_personal_page():
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config["CIVICPANEL_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
