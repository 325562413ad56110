"""One JSON error shape for every API: {code, status, message, errors}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug import exceptions as werkzeug_exceptions
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


# What a page says for an HTTP error, in the words of GOV.UK's error page patterns.
ERROR_PAGES = {
    400: ("Sorry, there is a problem with what was sent", "Go back and try again."),
    403: ("You cannot see this page", "Your role does not include this. Ask an admin of your "
          "agency if you need it."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted "
          "the web address, check you copied the entire address."),
    405: ("Sorry, there is a problem with what was sent", "Go back and try again."),
    413: ("The file is too large", "Send a smaller file."),
}


def error_page(exc: HTTPException):
    """An HTTP error as a page in the service's look (the console's, when signed in)."""
    heading, paragraph = ERROR_PAGES.get(exc.code or 500, (exc.name, exc.description or ""))
    headers = [(name, value) for name, value in exc.get_headers()
               if name.lower() != "content-type"]
    return render_template("message_page.html", heading=heading,
                           paragraphs=[paragraph]), exc.code or 500, headers


def register_error_handlers(app: Flask) -> None:
    """JSON errors for API paths; pages keep Flask's HTML errors (services add their own)."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            # A response of its own (a rate limit's page) is the page; the rest get ours.
            return exc if exc.response is not None else error_page(exc)
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
        if exc.status == 404:
            return error_page(werkzeug_exceptions.NotFound())
        paragraphs = [str(reason) for reasons in exc.errors.values()
                      for reason in (reasons if isinstance(reasons, list) else [reasons])]
        return render_template("message_page.html", heading=str(exc),
                               paragraphs=paragraphs), exc.status

    register_unavailable_handler(app, wants_json, error_body)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The route, not the address: a citizen's or a sign-in link's token stays out of logs.
        route = request.url_rule.rule if request.url_rule is not None else request.path
        log.exception("unhandled error on %s %s", request.method, route)
        if not wants_json():
            return InternalServerError()
        return jsonify(error_body(500, "Internal Server Error", "Something went wrong.")), 500
