"""An officer signs in through their agency's identity provider in Chromium, from the sign-in
page's button to their surveys, without JavaScript; the page passes axe-core at desktop and
phone width."""

from __future__ import annotations

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.fakes.oidc_provider import FakeOidcProvider, Person
from tests.oidc import surveys_with_oidc
from tests.scenario import setup_agencies
from tests.staff import add_staff

WCAG_22_AA = {"runOnly": {"type": "tag", "values": [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
# Set to a folder to keep screenshots of the page at both widths.
SCREENSHOTS = os.environ.get("CIVICPANEL_SCREENSHOTS")


@pytest.fixture
def provider():
    server = FakeOidcProvider().start()
    yield server
    server.stop()


@pytest.fixture
def live(provider, database_urls, redis_server, smtp_server, sms_gateway):
    with surveys_with_oidc(provider, database_urls, redis_server.url, smtp_server,
                           sms_gateway) as served:
        yield served


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_an_officer_signs_in_with_their_agencys_account_in_a_browser(
        apps, pump, live, provider, no_js_page):
    setup_agencies(apps, pump)
    add_staff(apps, email="olu.officer@council.example", agency="council", role="officer",
              name="Olu Officer")
    provider.signs_in(Person(sub="council-0001", email="olu.officer@council.example"))
    page = no_js_page
    page.goto(f"{live.url}/sign-in")
    page.get_by_role("button", name="Sign in with Riverside Council staff account").click()
    page.wait_for_url(f"{live.url}/surveys")
    expect(page.get_by_text("Olu Officer, Riverside Council")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_sign_in_page_with_providers_passes_axe(apps, pump, live, page, width):
    setup_agencies(apps, pump)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live.url}/sign-in")
    buttons = page.get_by_role("button", name="Sign in with")
    expect(buttons).to_have_count(3)
    # Every button is whole within a phone's width: nothing to scroll sideways for.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/sign-in-oidc-{width}.png", full_page=True)
    results = Axe().run(page, options=WCAG_22_AA)
    assert results.violations_count == 0, results.generate_report()
