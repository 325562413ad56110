"""Rate limits on what a citizen's link reaches on surveys, per client address.

Anyone holding or guessing links can post answers; a script posting the answer page without
pause would fill the responses table and load the busiest write there is. The counts live in
Redis, shared by every web process; when Redis cannot be reached the answer goes through (a
citizen is never turned away because Redis is down). The limit is generous, since the public
computers of a library share one address. Each process counts up to a twentieth of the limit
of one address before telling Redis (shared/rate_limits.py): a citizen's one post costs no round
trip, and a script posting without pause is stopped within a few posts of the limit.
"""

from __future__ import annotations

import functools

from flask import Flask, Response, current_app, make_response, render_template, request

from shared.rate_limits import RateLimit, Refusal

LOCAL_SHARE = 0.05  # of the limit, counted by a process before it tells Redis


def init_rate_limits(app: Flask) -> None:
    """Every post of the answer page counts against its address's RESPONSE_RATE_LIMIT."""
    limit = RateLimit(app.extensions["redis"], "surveys-answers",
                      lambda: current_app.config["RESPONSE_RATE_LIMIT"],
                      local_share=LOCAL_SHARE)
    submit = app.view_functions["pages.submit"]

    @functools.wraps(submit)
    def limited_submit(*args, **kwargs):
        refusal = limit.hit(request.remote_addr or "")
        if refusal is not None:
            return too_many_answers(refusal)
        return submit(*args, **kwargs)

    app.view_functions["pages.submit"] = limited_submit


def too_many_answers(refusal: Refusal) -> Response:
    response = make_response(render_template(
        "message_page.html", heading="Too many answers sent from this connection",
        paragraphs=("Please wait a minute and send your answers again: nothing you entered "
                    "has been lost if you go back.",)), 429)
    response.headers["Retry-After"] = str(refusal.retry_after_seconds)
    return response
