"""A small real SMS gateway on loopback that speaks Twilio's Messages REST format."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from werkzeug.serving import make_server


class FakeSmsGateway:
    """Accepts POST /2010-04-01/Accounts/<sid>/Messages.json with Basic auth, keeps each message."""

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict] = []
        self.attempts = 0  # every POST to Messages.json, accepted or not
        self._refusals: list[tuple[int, str | None]] = []  # (HTTP status, Retry-After) to answer
        self._refusing_until = 0.0  # refuse every send until then (time.monotonic())
        self._refusal = (503, None)
        self._hangs = 0  # sends to take and never answer
        self._released = threading.Event()  # lets hanging requests go (at clear or stop)
        self.hung: list[dict] = []  # what the hanging requests carried
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeSmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()

    def clear(self) -> None:
        self._released.set()
        with self._lock:
            self.messages.clear()
            self._refusals.clear()
            self._refusing_until = 0.0
            self._hangs = 0
            self.hung.clear()
            self.attempts = 0
            self._released = threading.Event()

    def hang_next(self, count: int) -> None:
        """Take the next `count` sends and never answer them (until cleared): a gateway whose
        connection is open and that has stopped replying. Nothing is created."""
        with self._lock:
            self._hangs += count

    def refuse_for(self, seconds: float, status: int = 503, retry_after: str | None = None) -> None:
        """Answer every send with `status` (and Retry-After) for the next `seconds`."""
        with self._lock:
            self._refusing_until = time.monotonic() + seconds
            self._refusal = (status, retry_after)

    def refuse_next(self, count: int, status: int = 429, retry_after: str | None = "1") -> None:
        """Answer the next `count` sends with 429 (code 20429) and no message created."""
        with self._lock:
            self._refusals.extend([(status, retry_after)] * count)

    def signature(self, url: str, params: dict) -> str:
        """X-Twilio-Signature for a webhook POST to `url`, as Twilio computes it."""
        from twilio.request_validator import RequestValidator

        return RequestValidator(self.auth_token).compute_signature(url, params)

    def _authorised(self, account_sid: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == account_sid == self.account_sid and password == self.auth_token

    def _build_app(self) -> Flask:
        app = Flask(__name__)

        @app.post("/2010-04-01/Accounts/<account_sid>/Messages.json")
        def create_message(account_sid: str):
            if not self._authorised(account_sid):
                return jsonify({"code": 20003, "message": "Authenticate", "status": 401,
                                "more_info": "https://www.twilio.com/docs/errors/20003"}), 401
            with self._lock:
                self.attempts += 1
                refusal = self._refusals.pop(0) if self._refusals else None
                if refusal is None and time.monotonic() < self._refusing_until:
                    refusal = self._refusal
                hang = refusal is None and self._hangs > 0
                if hang:
                    self._hangs -= 1
                    self.hung.append(dict(request.form))
                released = self._released
            if hang:
                released.wait(timeout=60)
                return "", 504
            if refusal is not None:
                status, retry_after = refusal
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                return jsonify({"code": 20429, "message": "Too Many Requests",
                                "more_info": "https://www.twilio.com/docs/errors/20429",
                                "status": status}), status, headers
            to, body = request.form.get("To", ""), request.form.get("Body", "")
            if not to.startswith("+") or not to[1:].isdigit():
                return jsonify({"code": 21211, "message": f"The 'To' number {to} is not valid.",
                                "status": 400}), 400
            message = {
                "sid": "SM" + secrets.token_hex(16), "account_sid": account_sid, "to": to,
                "status_callback": request.form.get("StatusCallback"),
                "from": request.form.get("From", ""), "body": body, "status": "queued",
                "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                "error_code": None, "error_message": None,
                "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            with self._lock:
                self.messages.append(message)
            return jsonify(message), 201

        return app
