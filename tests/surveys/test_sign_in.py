"""Staff sign in by an emailed link: signed, single use, 15 minutes; one session for all three
services, ended everywhere by signing out or by the user being disabled."""

from __future__ import annotations

import time

from itsdangerous import URLSafeTimedSerializer

from services.surveys.models import AuditLog, StaffUser
from shared.bus import utcnow
from shared.db import new_session
from shared.staff import COOKIE_NAME
from tests.scenario import setup_agencies
from tests.staff import SIGN_IN_LINK, add_staff, link_for, sign_in


def test_a_staff_member_signs_in_with_the_link_emailed_to_them(apps, clients, pump, smtp_server):
    setup_agencies(apps, pump)
    add_staff(apps, email="Olu.Officer@Council.example", agency="council", role="officer",
              name="Olu Officer")
    asked = clients["surveys"].post("/sign-in", data={
        "email": "olu.officer@council.example", "next": "http://panel.test/representativeness"})
    assert asked.status_code == 200 and b"Check your email" in asked.data
    pump()
    [mail] = [m for m in smtp_server.messages if "Sign in" in m["Subject"]]
    assert mail["To"] == "olu.officer@council.example"
    path = SIGN_IN_LINK.search(mail.get_payload(decode=True).decode()).group(1)

    # Opening the link (or a mail scanner fetching it) signs no one in; the button does.
    opened = clients["surveys"].get(path)
    assert b"Continue" in opened.data and opened.headers["Cache-Control"] == "no-store"
    assert clients["surveys"].get_cookie(COOKIE_NAME) is None
    finished = clients["surveys"].post(path)
    assert finished.status_code == 303
    assert finished.headers["Location"] == "http://panel.test/representativeness"
    cookie = finished.headers["Set-Cookie"]
    assert finished.headers["Set-Cookie"].startswith(COOKIE_NAME)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    again = clients["surveys"].post(path)
    assert again.status_code == 400 and b"used already" in again.data
    with apps["surveys"].app_context(), new_session() as session:
        [audit] = session.query(AuditLog).filter_by(action="sign_in").all()
        assert (audit.actor, audit.agency, audit.role) == (
            "olu.officer@council.example", "council", "officer")


def test_asking_for_a_link_tells_nobody_whether_an_address_has_an_account(
        apps, clients, pump, smtp_server):
    setup_agencies(apps, pump)
    add_staff(apps, email="known@council.example", agency="council", role="officer")
    known = clients["surveys"].post("/sign-in", data={"email": "known@council.example"})
    unknown = clients["surveys"].post("/sign-in", data={"email": "nobody@council.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.data.replace(b"known", b"X") == unknown.data.replace(b"nobody", b"X")
    pump()
    assert [m["To"] for m in smtp_server.messages] == ["known@council.example"]


def test_a_bad_email_is_named_against_its_field(apps, clients):
    for sent, reason in (("", b"Enter your work email address"),
                         ("not an email", b"in the right format"),
                         ("x@" + "y" * 400 + ".example", b"in the right format")):
        answer = clients["surveys"].post("/sign-in", data={"email": sent})
        assert answer.status_code == 400 and reason in answer.data
        assert b'href="#email"' in answer.data and b"<title>Error:" in answer.data


def test_links_are_refused_when_forged_expired_or_for_a_disabled_user(apps, clients, pump):
    setup_agencies(apps, pump)
    user_id = add_staff(apps, email="ana@police.example", agency="police", role="analyst")
    forged = clients["surveys"].post("/sign-in/" + "x" * 40)
    assert forged.status_code == 400 and b"not a link we sent" in forged.data

    secret = apps["surveys"].config["SECRET_KEY"]
    old = URLSafeTimedSerializer(secret, salt="civicpanel.staff-sign-in")
    # A link signed 16 minutes ago: itsdangerous reads the time from the token itself.
    real_time = time.time
    try:
        time.time = lambda: real_time() - 16 * 60
        stale_token = old.dumps({"user": user_id, "once": "abc"})
    finally:
        time.time = real_time
    expired = clients["surveys"].post(f"/sign-in/{stale_token}")
    assert expired.status_code == 400 and b"expired" in expired.data

    path = link_for(apps, "ana@police.example")
    with apps["surveys"].app_context(), new_session() as session:
        session.get(StaffUser, user_id).disabled_at = utcnow()
        session.commit()
    disabled = clients["surveys"].post(path)
    assert disabled.status_code == 400 and b"not active" in disabled.data


def test_links_are_asked_for_a_limited_number_of_times(apps, clients, pump):
    setup_agencies(apps, pump)
    add_staff(apps, email="busy@council.example", agency="council", role="officer")
    answers = [clients["surveys"].post("/sign-in", data={"email": "busy@council.example"})
               for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert b"Too many sign-in links" in answers[-1].data
    # Another person's address is counted apart.
    assert clients["surveys"].post("/sign-in", data={
        "email": "other@council.example"}).status_code == 200


def test_next_never_leads_off_the_partnerships_services(apps, clients, pump):
    setup_agencies(apps, pump)
    add_staff(apps, email="olu@council.example", agency="council", role="officer")
    for elsewhere in ("https://evil.example/", "//evil.example/", "http://panel.test.evil/",
                      "http:\\\\evil.example"):
        path = link_for(apps, "olu@council.example")
        answer = clients["surveys"].post(path.split("?")[0] + "?next=" + elsewhere)
        assert answer.headers["Location"] == "http://surveys.test/surveys"


def test_signing_out_in_one_service_ends_the_session_in_all_three(apps, clients, pump):
    setup_agencies(apps, pump)
    add_staff(apps, email="olu@council.example", agency="council", role="admin")
    sign_in(apps, clients, "olu@council.example")
    for name in ("panel", "surveys", "feedback"):
        assert b"Sign out" in _signed_in_page_of(clients, name).data, name
    out = clients["panel"].post("/sign-out")
    assert out.status_code == 303 and out.headers["Location"].startswith(
        "http://surveys.test/sign-in")
    for name in ("panel", "surveys", "feedback"):
        assert b"Sign out" not in _signed_in_page_of(clients, name).data, name


def form_token_of(client) -> str | None:
    """The raw CSRF token this browser's forms carry, as kept in its session with surveys."""
    with client.session_transaction() as session:
        return session.get("csrf_token")


def test_signing_in_at_a_browser_someone_used_starts_everything_afresh(apps, clients, pump):
    """A shared computer: the last person's staff session ends, and the next person's forms
    carry a token of their own, whether the last person signed out or not."""
    setup_agencies(apps, pump)
    add_staff(apps, email="olu@council.example", agency="council", role="admin")
    add_staff(apps, email="bo@council.example", agency="council", role="officer")
    browser = clients["surveys"]
    first_session = sign_in(apps, clients, "olu@council.example")
    browser.get("/sign-in")  # a page with a form: a token in the browser's session
    first_token = form_token_of(browser)
    assert first_token is not None
    second_session = sign_in(apps, clients, "bo@council.example")
    assert form_token_of(browser) != first_token
    assert apps["surveys"].extensions["staff_sessions"].find(first_session) is None
    assert apps["surveys"].extensions["staff_sessions"].find(second_session) is not None
    browser.get("/sign-in")
    second_token = form_token_of(browser)
    assert browser.post("/sign-out").status_code == 303
    browser.get("/sign-in")
    assert form_token_of(browser) not in (None, second_token)


def test_disabling_a_user_ends_their_sessions_everywhere(apps, clients, pump):
    setup_agencies(apps, pump)
    user_id = add_staff(apps, email="olu@council.example", agency="council", role="officer")
    sign_in(apps, clients, "olu@council.example")
    sessions = apps["surveys"].extensions["staff_sessions"]
    assert sessions.end_all(user_id) == 1
    for name in ("panel", "surveys", "feedback"):
        assert b"Sign out" not in _signed_in_page_of(clients, name).data, name


HOMES = {"panel": "/panel", "surveys": "/surveys", "feedback": "/reports"}


def _signed_in_page_of(clients, name):
    """Each service's console home, which an admin may read."""
    return clients[name].get(HOMES[name], follow_redirects=False)
