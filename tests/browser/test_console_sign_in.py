"""A member of staff signs in to the console in a real browser with the link emailed to them,
moves between the three services by the service navigation, by mouse and by keyboard, and
signs out; after that no service lets the old session cookie in, and no form is taken without
its CSRF token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from shared.staff import COOKIE_NAME
from tests.browser.conftest import LiveServer
from tests.scenario import setup_agencies
from tests.staff import SIGN_IN_LINK, add_staff

SERVICES = ("panel", "surveys", "feedback")
STAFF_PAGES = {"surveys": "/surveys", "panel": "/panel", "feedback": "/reports"}


@pytest.fixture
def live_console(apps, monkeypatch) -> Iterator[dict[str, LiveServer]]:
    """The three services over HTTP on 127.0.0.1, each knowing the others' real addresses, as
    `make up` runs them: one host, three ports, so one cookie reaches all three."""
    servers = {name: LiveServer(apps[name]) for name in SERVICES}
    urls = {f"{name.upper()}_URL": server.url for name, server in servers.items()}
    for app in apps.values():
        for key, url in urls.items():
            monkeypatch.setitem(app.config, key, url)
        monkeypatch.setitem(app.jinja_env.globals, "service_urls",
                            {name: server.url for name, server in servers.items()})
    yield servers
    for server in servers.values():
        server.stop()


def emailed_link(smtp_server, to: str) -> str:
    [mail] = [m for m in smtp_server.messages if m["To"] == to]
    return SIGN_IN_LINK.search(mail.get_content()).group(0)


def tab_until(page, name: str, presses: int = 10) -> list[str]:
    """Press Tab until the focused element's text is `name`: the texts focused on the way."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.textContent.trim()"))
        if seen[-1] == name:
            return seen
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def test_staff_sign_in_by_emailed_link_move_between_services_and_sign_out(
        apps, pump, smtp_server, live_console, page, browser, axe):
    surveys, panel, feedback = (live_console[name] for name in ("surveys", "panel", "feedback"))
    setup_agencies(apps, pump)
    add_staff(apps, email="ada.admin@council.example", agency="council", role="admin",
              name="Ada Admin")

    page.goto(f"{surveys.url}/surveys")
    assert page.url.startswith(f"{surveys.url}/sign-in?next=")  # not signed in yet
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    axe.check(page, "sign in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.title().startswith("Error:")
    axe.check(page, "sign in, with an error")
    page.get_by_role("link", name="Enter your work email address").click()
    page.get_by_label("Your work email address").fill("Ada.Admin@council.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check(page, "check your email")

    pump()  # surveys asks panel to send the email; panel's worker sends it
    link = emailed_link(smtp_server, "ada.admin@council.example")
    assert link.startswith(f"{surveys.url}/sign-in/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Continue signing in")).to_be_visible()
    axe.check(page, "continue signing in")
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(f"{surveys.url}/surveys")
    expect(page.get_by_role("heading", name="Surveys", exact=True)).to_be_visible()
    banner = page.get_by_role("banner")
    expect(banner.get_by_text("Ada Admin, Riverside Council")).to_be_visible()
    expect(banner.get_by_role("button", name="Sign out")).to_be_visible()
    navigation = page.get_by_role("navigation", name="Menu")
    assert [link.inner_text() for link in navigation.get_by_role("link").all()] == [
        "Surveys", "Calendar", "Panel", "Results", "Feedback", "Admin"]
    assert navigation.get_by_role("link", name="Surveys").get_attribute(
        "aria-current") == "page"
    axe.check(page, "surveys")
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # Keyboard only: the first Tab reaches the skip link, which shows itself; then on through
    # the header to the service navigation, and Enter follows it to panel's port.
    page.goto(f"{surveys.url}/surveys")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    assert skip.is_visible() and skip.bounding_box()["height"] > 0
    on_the_way = tab_until(page, "Panel")
    assert on_the_way[:2] == ["Sign out", "Surveys"]
    page.keyboard.press("Enter")
    page.wait_for_url(f"{panel.url}/panel")
    expect(page.get_by_role("heading", name="Panel", exact=True)).to_be_visible()
    expect(page.get_by_role("banner").get_by_text("Ada Admin, Riverside Council")).to_be_visible()
    axe.check(page, "panel")

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Feedback").click()
    page.wait_for_url(f"{feedback.url}/reports")
    expect(page.get_by_role("heading", name="Feedback reports")).to_be_visible()
    axe.check(page, "feedback reports")

    # Signing out from feedback's header ends the one session all three services share.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{surveys.url}/sign-in?signed_out=1")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    axe.check(page, "signed out")
    assert COOKIE_NAME not in {c["name"] for c in page.context.cookies()}

    # The old cookie, sent again from elsewhere, opens no service's staff page.
    stolen = browser.new_context()
    try:
        stolen.add_cookies([{"name": COOKIE_NAME, "value": cookie["value"],
                             "domain": "127.0.0.1", "path": "/"}])
        for name, path in STAFF_PAGES.items():
            answer = stolen.request.get(live_console[name].url + path, max_redirects=0)
            assert answer.status == 302, (name, answer.status)
            assert answer.headers["location"].startswith(f"{surveys.url}/sign-in?next=")
        thief = stolen.new_page()
        thief.goto(f"{panel.url}/panel")
        assert thief.url.startswith(f"{surveys.url}/sign-in?next=")
    finally:
        stolen.close()


def test_a_form_sent_without_its_csrf_token_is_refused(apps, pump, smtp_server, live_console,
                                                       page, axe):
    surveys = live_console["surveys"]
    setup_agencies(apps, pump)
    add_staff(apps, email="olu@council.example", agency="council", role="officer")
    page.goto(f"{surveys.url}/sign-in")
    page.get_by_label("Your work email address").fill("olu@council.example")
    # As a forged form on another site would arrive: everything but the token.
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_response(f"{surveys.url}/sign-in") as answer:
        page.get_by_role("button", name="Email me a sign-in link").click()
    assert answer.value.status == 400
    expect(page.get_by_role("heading", name="Your form could not be sent")).to_be_visible()
    axe.check(page, "form refused")
    pump()
    assert smtp_server.messages == []  # no link was sent
