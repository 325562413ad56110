"""An officer reads the partnership calendar in a real browser, on a desk and on a phone."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from shared.bus import utcnow
from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.panel.factories import make_members
from tests.staff import signed_in_browser
from tests.surveys.test_console_calendar import (
    TODAY,
    partnership_surveys,
    publish_counts,
    rest_members,
)


def test_an_officer_reads_the_calendar_and_pages_through_the_months(
        apps, clients, pump, live_console, page, axe):  # noqa: F811
    surveys = live_console["surveys"]
    ids = partnership_surveys(apps, clients, pump)
    resting = make_members(apps["panel"], 6, area="E05001002")
    rest_members(apps["panel"], resting[:4], utcnow() + timedelta(days=30))
    publish_counts(apps["panel"], utcnow())
    pump()
    signed_in_browser(page, apps, surveys.url,
                      email="olu@health.example", agency="health", role="officer",
                      name="Olu Okafor")
    page.wait_for_url(f"{surveys.url}/surveys")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Calendar").click()
    page.wait_for_url(f"{surveys.url}/calendar")

    month = TODAY.strftime("%B %Y")
    expect(page.get_by_role("heading", name=month, exact=True)).to_be_visible()
    timeline = page.get_by_role("table", name=f"Fieldwork in {month}, week by week")
    expect(timeline.get_by_role("rowheader")).to_have_count(3)
    safety = page.locator(f"#survey-{ids['safety']}")
    expect(safety.get_by_text("Overlaps", exact=True)).to_be_visible()
    expect(safety.get_by_text("Riverside Central, Old Town")).to_be_visible()
    rest = page.get_by_role("table", name="Panel members resting under the contact cap, by area")
    assert rest.get_by_role("row", name="Old Town").get_by_role("cell").nth(1).inner_text() == "4"
    axe.check(page, "calendar")

    page.get_by_role("link", name="Next month").click()
    expect(page.get_by_role("heading", name="Drafts with no fieldwork dates yet")).to_be_visible()
    axe.check(page, "calendar, next month")
