"""A small real OpenID Connect provider on loopback: discovery, keys, authorize, token, userinfo.

It speaks the authorization code flow as an agency's identity provider would: the client and
its one redirect address are registered, the code is single use and bound to the client, the
redirect address and the PKCE challenge (S256 only), the client authenticates with its secret
(HTTP Basic or in the form), and the ID token is RS256-signed by a key made at start and
published at the JWKS address. Who is signed in at /authorize is set by the test (`signs_in`),
as if that person had typed their password; `tamper_id_tokens` changes what the next ID tokens
say, as a misbehaving or hostile provider might.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.oidc.core.util import create_half_hash
from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

ID_TOKEN_SECONDS = 300
_REMOVE = object()


@dataclass(frozen=True)
class Person:
    """Someone with an account at the provider."""

    sub: str
    email: str
    email_verified: bool | str | None = True  # None: no such claim (as Entra ID sends)
    name: str = ""


@dataclass(frozen=True)
class _Client:
    secret: str
    redirect_uri: str


def new_signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={
        "kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})


class FakeOidcProvider:
    def __init__(self):
        self.key = new_signing_key()
        self._clients: dict[str, _Client] = {}
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, dict] = {}
        self._person: Person | None = None
        self._changes: dict[str, object] = {}
        self._signing_key: RSAKey | None = None  # a key not published: a forged token
        self.token_requests = 0
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeOidcProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        with self._lock:
            self._clients[client_id] = _Client(secret, redirect_uri)

    def signs_in(self, person: Person | None) -> None:
        """Who /authorize signs in from now on; None: the person cancels at the provider."""
        with self._lock:
            self._person = person

    def tamper_id_tokens(self, *, signed_with: RSAKey | None = None, **claims) -> None:
        """The next ID tokens carry these claims instead (None removes one), signed by
        `signed_with` instead of the published key, when given."""
        with self._lock:
            self._changes = {name: _REMOVE if value is None else value
                             for name, value in claims.items()}
            self._signing_key = signed_with

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access_tokens.clear()
            self._person = None
            self._changes = {}
            self._signing_key = None
            self.token_requests = 0

    # The protocol.

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.add_url_rule("/.well-known/openid-configuration", "discovery", self._discovery)
        app.add_url_rule("/jwks", "jwks", self._jwks)
        app.add_url_rule("/authorize", "authorize", self._authorize)
        app.add_url_rule("/token", "token", self._token, methods=["POST"])
        app.add_url_rule("/userinfo", "userinfo", self._userinfo)
        return app

    def _discovery(self):
        return jsonify({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        })

    def _jwks(self):
        return jsonify(KeySet([self.key]).as_dict(private=False))

    def _authorize(self):
        args = request.args
        client = self._clients.get(args.get("client_id", ""))
        if client is None or args.get("redirect_uri") != client.redirect_uri:
            abort(400)  # never redirect to an address not registered
        problem = None
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            problem = "unsupported_response_type"
        elif not args.get("code_challenge") or args.get("code_challenge_method") != "S256":
            problem = "invalid_request"
        elif self._person is None:
            problem = "access_denied"
        if problem:
            return redirect(_with_query(client.redirect_uri,
                                        {"error": problem, "state": args.get("state", "")}))
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"client_id": args["client_id"], "person": self._person,
                                 "redirect_uri": args["redirect_uri"],
                                 "challenge": args["code_challenge"],
                                 "nonce": args.get("nonce"), "expires": time.time() + 60}
        return redirect(_with_query(client.redirect_uri,
                                    {"code": code, "state": args.get("state", "")}))

    def _client_credentials(self) -> tuple[str, str]:
        if request.authorization and request.authorization.type == "basic":
            return request.authorization.username or "", request.authorization.password or ""
        return request.form.get("client_id", ""), request.form.get("client_secret", "")

    def _token(self):
        with self._lock:
            self.token_requests += 1
        client_id, secret = self._client_credentials()
        client = self._clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return jsonify({"error": "invalid_client"}), 401
        form = request.form
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if (form.get("grant_type") != "authorization_code" or grant is None
                or grant["expires"] < time.time() or grant["client_id"] != client_id
                or form.get("redirect_uri") != grant["redirect_uri"]
                or _s256(verifier) != grant["challenge"]):
            return jsonify({"error": "invalid_grant"}), 400
        access_token = secrets.token_urlsafe(24)
        person: Person = grant["person"]
        with self._lock:
            self._access_tokens[access_token] = _without_none({
                "sub": person.sub, "email": person.email,
                "email_verified": person.email_verified, "name": person.name})
        return jsonify({"access_token": access_token, "token_type": "Bearer",
                        "expires_in": 300, "scope": "openid email profile",
                        "id_token": self._id_token(client_id, person, grant["nonce"],
                                                   access_token)})

    def _id_token(self, client_id: str, person: Person, nonce: str | None,
                  access_token: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": person.sub, "aud": client_id,
                  "exp": now + ID_TOKEN_SECONDS, "iat": now, "auth_time": now,
                  "email": person.email, "email_verified": person.email_verified,
                  "name": person.name, "at_hash": create_half_hash(access_token,
                                                                   "RS256").decode()}
        claims = _without_none(claims)
        if nonce:
            claims["nonce"] = nonce
        for name, value in self._changes.items():
            if value is _REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self._signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims, key)

    def _userinfo(self):
        header = request.headers.get("Authorization", "")
        info = self._access_tokens.get(header.removeprefix("Bearer ").strip())
        if not header.startswith("Bearer ") or info is None:
            return jsonify({"error": "invalid_token"}), 401
        return jsonify(info)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _with_query(address: str, parameters: dict) -> str:
    return f"{address}{'&' if '?' in address else '?'}{urlencode(parameters)}"


def _without_none(claims: dict) -> dict:
    """The claims a person has: one they lack is absent, not null."""
    return {name: value for name, value in claims.items() if value is not None}
