"""Surveys served over real HTTP with two agencies signing in through an OIDC provider on
loopback (tests/fakes/oidc_provider.py), a third whose provider does not answer."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import make_server

from services import surveys
from shared.identity_providers import parse_identity_providers
from tests.conftest import service_config
from tests.fakes.oidc_provider import FakeOidcProvider

CLIENTS = {"council": ("civicpanel-council", "council-secret-" + "c" * 24),
           "police": ("civicpanel-police", "police-secret-" + "p" * 24)}
PROVIDER_NAMES = {"council": "Riverside Council staff account",
                  "police": "Riverside Police directory",
                  "health": "Riverside Health sign-in"}
# Nothing listens on port 9 of loopback (discard): the health agency's provider is down.
UNREACHABLE_ISSUER = "http://127.0.0.1:9"
BUTTON = re.compile(r'href="(/sign-in/oidc/(\w+)[^"]*)"')


@dataclass
class LiveSurveys:
    url: str
    app: Flask

    def button_paths(self, page_html: str) -> dict[str, str]:
        """The sign-in page's provider buttons: agency code to the button's address."""
        return {agency: html.unescape(path) for path, agency in BUTTON.findall(page_html)}


class _Later:
    """A WSGI app set once the server's port, hence the app's public address, is known."""

    app: Flask | None = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@contextmanager
def surveys_with_oidc(provider: FakeOidcProvider, database_urls, redis_url: str, smtp_server,
                      sms_gateway) -> Iterator[LiveSurveys]:
    later = _Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    providers = [{"agency": agency, "name": PROVIDER_NAMES[agency], "issuer": provider.issuer,
                  "client_id": client_id, "client_secret": secret}
                 for agency, (client_id, secret) in CLIENTS.items()]
    # The council's directory holds council.example: its addresses need no email_verified.
    providers[0]["email_domains"] = ["Council.example"]
    providers.append({"agency": "health", "name": PROVIDER_NAMES["health"],
                      "issuer": UNREACHABLE_ISSUER, "client_id": "civicpanel",
                      "client_secret": "health-secret"})
    config = service_config("surveys", database_urls, redis_url, smtp_server, sms_gateway)
    config.update(SURVEYS_URL=url, OIDC_PROVIDERS=parse_identity_providers(
        json.dumps(providers), production=False))
    later.app = surveys.create_app(config)
    for agency, (client_id, secret) in CLIENTS.items():
        provider.register_client(client_id, secret, f"{url}/sign-in/oidc/{agency}/callback")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveSurveys(url=url, app=later.app)
    finally:
        server.shutdown()
        later.app.extensions["database"].engine.dispose()
