"""One JSON error shape for every API: {code, status, message, errors}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from shared.unavailable import register_unavailable_handler

log = logging.getLogger(__name__)


class RuleBroken(ValueError):
    """A request a domain rule refuses; `errors` names the fields, `status` the HTTP answer."""

    # Where the named fields were sent ("json", "query", "files"...); None when `errors`
    # already is the whole {location: fields} map an API answers with.
    location: str | None = "json"

    def __init__(self, message: str, errors: dict | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status

    def answer_errors(self) -> dict | None:
        """The `errors` of the JSON answer, keyed by where the fields were sent."""
        if not self.errors:
            return None
        return {self.location: self.errors} if self.location else self.errors


class NotFound(RuleBroken):
    """What was asked for does not exist for this caller: answered exactly as if it did not
    exist at all, so an answer never tells another agency's data apart from nothing."""

    def __init__(self, message: str = "Not found.", errors: dict | None = None):
        super().__init__(message, errors, status=404)


def error_body(status: int, name: str, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": name, "message": message}
    if errors:
        body["errors"] = errors
    return body


def wants_json() -> bool:
    """API paths, health and the SMS gateway's webhooks answer errors in JSON; pages in HTML."""
    return request.path.startswith(("/api/", "/sms/")) or request.path == "/healthz"


def register_error_handlers(app: Flask) -> None:
    """JSON errors for API paths; pages keep Flask's HTML errors (services add their own)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return exc
        data = getattr(exc, "data", {}) or {}
        errors = data.get("messages") or data.get("errors")
        body = error_body(exc.code or 500, exc.name, data.get("message") or exc.description, errors)
        return jsonify(body), exc.code

    @app.errorhandler(RuleBroken)
    def _rule_broken(exc: RuleBroken):
        """A domain rule refused the request: JSON naming the fields, or a page saying why."""
        if wants_json():
            body = error_body(exc.status, HTTP_STATUS_CODES.get(exc.status, "Error"), str(exc),
                              exc.answer_errors())
            return jsonify(body), exc.status
        paragraphs = [str(reason) for reasons in exc.errors.values()
                      for reason in (reasons if isinstance(reasons, list) else [reasons])]
        return render_template("message_page.html", heading=str(exc),
                               paragraphs=paragraphs), exc.status

    register_unavailable_handler(app, wants_json, error_body)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return InternalServerError()
        return jsonify(error_body(500, "Internal Server Error", "Something went wrong.")), 500
