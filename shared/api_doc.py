"""Documents in every OpenAPI operation the error answers the shared machinery gives, so a
client (or a generator such as schemathesis) finds each status code it can get listed."""

from __future__ import annotations

from http import HTTPStatus

from apispec import BasePlugin
from flask import Flask

# Every operation: input refused by shared/input_guard.py.
ALWAYS = {"400": "BAD_REQUEST"}
# An operation with a path parameter: no such thing (or an id beyond the database's range).
WITH_PATH_PARAMETER = {"404": "NOT_FOUND"}
# An operation taking a body: over MAX_CONTENT_LENGTH.
WITH_BODY = {"413": HTTPStatus(413).name}  # flask-smorest names its responses by HTTPStatus
# An operation behind require_role: no key, or a key of another role.
WITH_ROLES = {"401": "UNAUTHORIZED", "403": "FORBIDDEN"}


class CommonErrorResponses(BasePlugin):
    """An apispec plugin adding the shared error answers to each operation of one app."""

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            added = dict(ALWAYS)
            if rule is not None and rule.arguments:
                added |= WITH_PATH_PARAMETER
            if method in ("post", "put", "patch"):
                added |= WITH_BODY
            if getattr(view, "required_roles", None) is not None:
                added |= WITH_ROLES
            for status, component in added.items():
                responses.setdefault(status, component)
