"""Rate limits on what anyone can reach on panel without a key, per client address.

Joining creates a member and sends a confirmation email or SMS, so a script posting the
join page could fill the panel with strangers and send texts at the partnership's cost. The
counts live in Redis, shared by every web process; when Redis cannot be reached the request
goes through (a citizen is never turned away because Redis is down).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, make_response, render_template
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address


def init_rate_limits(app: Flask) -> None:
    """The app's own limiter (its own Redis), applied to its public forms."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["REDIS_URL"],
                      strategy="fixed-window", headers_enabled=True, swallow_errors=True,
                      key_prefix="civicpanel-panel")
    # Only sign-ups that went through count: a form sent back with a mistake costs nothing.
    app.view_functions["pages.join"] = limiter.limit(
        join_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 303,
        on_breach=too_many_sign_ups)(app.view_functions["pages.join"])


def join_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def too_many_sign_ups(_limit: RequestLimit) -> Response:
    return make_response(render_template(
        "message_page.html", heading="Too many sign-ups from this connection",
        paragraphs=("Please try again in an hour. If many people are joining from one place, "
                    "such as a library, the partnership can add them for you.",)), 429)
