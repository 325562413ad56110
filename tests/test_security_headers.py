"""Every page and API answer of every service carries the security headers a deployment expects;
members' personal pages and staff pages are never cached, and personal pages are not sent on
as a referrer; no page runs inline script; the answer page is rate-limited per client address,
and let through while Redis is down."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services import feedback, panel, surveys
from services.surveys.models import Response
from shared.db import new_session
from tests.fakes.redis_server import PrivateRedis
from tests.scenario import setup_agencies
from tests.staff import add_staff, sign_in
from tests.surveys.test_respond import SKIP_LOGIC, launched, web_survey

FACTORIES = {"panel": panel.create_app, "surveys": surveys.create_app,
             "feedback": feedback.create_app}
PAGES = {"panel": "/join", "surveys": "/no-such-page", "feedback": "/you-said-we-did"}
PERSONAL_PAGES = {"panel": ("/u/not-a-token", "/join/confirm/not-a-token"),
                  "surveys": ("/r/not-a-token", "/r/not-a-token/thanks"),
                  "feedback": ("/you/not-a-token",)}
API_ANSWERS = ("/api/v1/openapi.json", "/api/v1/no-such-thing")


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_hardened(response) -> None:
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no other origin
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # development serves plain HTTP


@pytest.mark.parametrize("name", FACTORIES)
def test_pages_and_api_answers_carry_the_security_headers(clients, name):
    for path in (PAGES[name], *API_ANSWERS):
        response = clients[name].get(path)
        assert_hardened(response)
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("name", FACTORIES)
def test_personal_pages_are_never_cached_nor_sent_on_as_a_referrer(clients, name):
    for path in PERSONAL_PAGES[name]:
        response = clients[name].get(path)
        assert_hardened(response)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", FACTORIES)
def test_production_adds_strict_transport_security(database_urls, redis_server, name):
    app = FACTORIES[name]({"CIVICPANEL_ENV": "production", "SECRET_KEY": "s" * 48,
                           "SMS_ACCOUNT_SID": "AC" + "0" * 32, "SMS_AUTH_TOKEN": "t" * 32,
                           "DATABASE_URL": database_urls[name], "REDIS_URL": redis_server.url})
    try:
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        app.extensions["database"].engine.dispose()


def test_the_answer_page_runs_no_inline_script_and_its_script_is_cached_long(
        apps, clients, pump):
    token = web_survey(apps, clients, pump, questions=SKIP_LOGIC)
    page = clients["surveys"].get(f"/r/{token}")
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attributes and not body.strip()
                           for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    source = re.search(r'<script src="([^"]+)"', html).group(1)
    with clients["surveys"].get(source) as script:
        assert script.status_code == 200 and b"data-show-if" in script.data
        assert "max-age=31536000" in script.headers["Cache-Control"]
    assert "?v=" in source  # the address changes with the content, so the long cache is safe


def responses(app) -> int:
    with app.app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(Response))


def test_answers_from_one_address_stop_at_the_limit(apps, clients, pump, monkeypatch):
    monkeypatch.setitem(apps["surveys"].config, "RESPONSE_RATE_LIMIT", "2 per minute")
    _, _, tokens = launched(apps, clients, pump, members=2)
    answers = {"feel_safe": "4", "priority": "Street lighting"}
    assert clients["surveys"].post(f"/r/{tokens[0]}", data=answers).status_code == 303
    assert clients["surveys"].post(f"/r/{tokens[1]}", data={"action": "save"}).status_code == 200
    third = clients["surveys"].post(f"/r/{tokens[1]}", data=answers)
    assert third.status_code == 429
    assert b"Too many answers sent from this connection" in third.data
    assert "Retry-After" in third.headers
    assert responses(apps["surveys"]) == 1
    # Another address has its own count.
    other = clients["surveys"].post(f"/r/{tokens[1]}", data=answers,
                                    environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 303 and responses(apps["surveys"]) == 2


def test_answers_go_through_while_redis_is_down(apps, clients, pump, database_urls):
    _, _, tokens = launched(apps, clients, pump, members=2)
    redis = PrivateRedis().start()
    app = surveys.create_app({"DATABASE_URL": database_urls["surveys"], "REDIS_URL": redis.url,
                              "TESTING": True, "RESPONSE_RATE_LIMIT": "1 per minute"})
    try:
        redis.stop()
        answers = {"feel_safe": "4", "priority": "Street lighting"}
        sent = [app.test_client().post(f"/r/{token}", data=answers).status_code
                for token in tokens]
        assert sent == [303, 303]
        assert responses(app) == 2
    finally:
        app.extensions["database"].engine.dispose()


STAFF_PAGES = {"surveys": "/surveys", "panel": "/panel", "feedback": "/reports"}


def test_staff_pages_run_no_inline_script_and_are_never_cached(apps, clients, pump):
    setup_agencies(apps, pump)
    add_staff(apps, email="ada@council.example", agency="council", role="admin",
              name="Ada Admin")
    sign_in(apps, clients, "ada@council.example")
    for name, path in STAFF_PAGES.items():
        page = clients[name].get(path)
        assert page.status_code == 200 and b"Ada Admin" in page.data
        assert_hardened(page)
        # Agency and personal data: kept by no proxy, nor by the browser after signing out.
        assert page.headers["Cache-Control"] == "no-store"
        html = page.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html)  # no inline script
        assert not re.search(r"\s(on[a-z]+|style)=", html)  # no inline handlers nor styles
        # Signing out of this service's page ends on surveys' sign-in page: the policy lets
        # forms (and the redirects they lead to) reach the three services and nowhere else.
        assert policy(page)["form-action"] == [
            "'self'", "http://feedback.test", "http://panel.test", "http://surveys.test"]
    # Public pages of the same services are cached as before.
    assert "no-store" not in clients["feedback"].get("/you-said-we-did").headers.get(
        "Cache-Control", "")


def test_the_sign_in_page_and_staff_pages_are_https_only_in_production(
        database_urls, redis_server):
    app = surveys.create_app({"CIVICPANEL_ENV": "production", "SECRET_KEY": "s" * 48,
                              "SURVEYS_URL": "https://panel.example.gov.uk/surveys",
                              "DATABASE_URL": database_urls["surveys"],
                              "REDIS_URL": redis_server.url})
    try:
        client = app.test_client()
        # Under its public path, as the Ingress passes requests on: /surveys + the page.
        for path in ("/surveys/sign-in", "/surveys/surveys"):
            answer = client.get(path, base_url="https://panel.example.gov.uk")
            assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
            assert policy(answer)["frame-ancestors"] == ["'none'"]
        assert answer.status_code == 302  # not signed in: to the sign-in page
        assert answer.headers["Location"].startswith(
            "https://panel.example.gov.uk/surveys/sign-in?next=")
    finally:
        app.extensions["database"].engine.dispose()
