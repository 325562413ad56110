"""A database that cannot be reached: a 503 that says so (JSON or a page), never a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy import exc

log = logging.getLogger(__name__)

# What SQLAlchemy raises when the database is down, unreachable, locked past its timeout or
# out of connections: the request may succeed if sent again in a minute.
DATABASE_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError,
                        exc.TimeoutError)
RETRY_AFTER_SECONDS = 30
MESSAGE = "The service cannot reach its database just now. Try again in a minute."


def unavailable_page(heading: str, *paragraphs: str, kept: list[tuple[str, str]] | None = None,
                     summary: list[tuple[str, str]] | None = None, action: str = ""):
    """The 503 page; with `kept`, a form that sends those fields again as they were posted."""
    return render_template("unavailable.html", heading=heading, paragraphs=paragraphs,
                           kept=kept, summary=summary or [], action=action), 503, {
        "Retry-After": str(RETRY_AFTER_SECONDS)}


def form_to_send_again(heading: str, status: int, *paragraphs: str):
    """A page offering the form just posted, as it was posted, to send again to the same
    address, under the service's public path (with a fresh CSRF token, since the page renders
    one)."""
    kept = [(name, value) for name in request.form for value in request.form.getlist(name)]
    action = request.script_root + request.path
    if request.query_string:
        action += "?" + request.query_string.decode("latin-1")
    return render_template("unavailable.html", heading=heading, paragraphs=paragraphs,
                           kept=kept, summary=[], action=action), status


def register_unavailable_handler(app: Flask, wants_json, error_body) -> None:
    def _database_unavailable(error: Exception):
        log.warning("database unavailable: %s", error.__class__.__name__, exc_info=error)
        if wants_json():
            return jsonify(error_body(503, "Service Unavailable", MESSAGE)), 503, {
                "Retry-After": str(RETRY_AFTER_SECONDS)}
        return unavailable_page("Sorry, the service is unavailable", MESSAGE)

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, _database_unavailable)
