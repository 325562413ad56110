"""Flask's test client, posting forms the way a browser does: with the CSRF token its pages
would have rendered into the form (Flask-WTF keeps the raw token in the session, the form
carries it signed). API calls and gateway webhooks are sent as they are."""

from __future__ import annotations

import hashlib
import os

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

NOT_FORMS = ("/api/", "/sms/")


class FormClient(FlaskClient):
    def post(self, *args, **kwargs):
        path = args[0] if args else kwargs.get("path", "/")
        data = kwargs.get("data")
        if data is None and "json" not in kwargs:
            data = {}  # a form of one button
        if str(path).startswith(NOT_FORMS) or not isinstance(data, dict | list | MultiDict):
            return super().post(*args, **kwargs)
        fields = MultiDict(data)
        if "csrf_token" not in fields:
            fields.add("csrf_token", self.csrf_token())
        kwargs["data"] = fields
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        """The token a page of this app renders for this client's session."""
        with self.session_transaction() as session:
            session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
            raw = session["csrf_token"]
        return URLSafeTimedSerializer(self.application.secret_key,
                                      salt="wtf-csrf-token").dumps(raw)
