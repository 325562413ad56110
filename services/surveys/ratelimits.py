"""Rate limits on what a citizen's link reaches on surveys, per client address.

Anyone holding or guessing links can post answers; a script posting the answer page without
pause would fill the responses table and load the busiest write there is. The counts live in
Redis, shared by every web process; when Redis cannot be reached the answer goes through (a
citizen is never turned away because Redis is down). The limit is generous, since the public
computers of a library share one address.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, make_response, render_template
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address


def init_rate_limits(app: Flask) -> None:
    """The app's own limiter (its own Redis), applied to the answer page's posts."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["REDIS_URL"],
                      # No rate-limit headers on every answer: they would overwrite the
                      # Retry-After of a 503 page when the database is down.
                      strategy="fixed-window", headers_enabled=False, swallow_errors=True,
                      key_prefix="civicpanel-surveys")
    app.view_functions["pages.submit"] = limiter.limit(
        response_limit, methods=["POST"], on_breach=too_many_answers)(
        app.view_functions["pages.submit"])


def response_limit() -> str:
    return current_app.config["RESPONSE_RATE_LIMIT"]


def too_many_answers(limit: RequestLimit) -> Response:
    response = make_response(render_template(
        "message_page.html", heading="Too many answers sent from this connection",
        paragraphs=("Please wait a minute and send your answers again: nothing you entered "
                    "has been lost if you go back.",)), 429)
    response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
    return response
