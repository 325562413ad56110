"""A decision owner completes, previews and publishes a report in a real browser, and the
loopback SMTP and SMS servers receive one outcome message per respondent."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.feedback.closing import close_survey
from tests.scenario import AGENCIES, add_members, setup_agencies
from tests.staff import signed_in_browser

NAMES = {slug: AGENCIES[slug] for slug in ("council", "police")}


def fill_date(page, field: str, day: str, month: str, year: str) -> None:
    page.locator(f"#{field}").fill(day)
    page.locator(f"#{field}-month").fill(month)
    page.locator(f"#{field}-year").fill(year)


def test_a_decision_owner_completes_previews_and_publishes_a_report(
        apps, clients, pump, smtp_server, sms_gateway, live_console, page, axe):  # noqa: F811
    surveys, feedback = live_console["surveys"], live_console["feedback"]
    keys = setup_agencies(apps, pump)
    people = add_members(clients["panel"], keys["council"]["panel_manager"], 12, sms_every=4)
    close_survey(pump, {"Mornings": 7, "Evenings": 5}, sponsor_names=NAMES,
                 respondent_refs=[p["member_ref"] for p in people],
                 respondent_channels={"email": 9, "sms": 3})
    signed_in_browser(page, apps, surveys.url,
                      email="dana@council.example", agency="council", role="decision_owner",
                      name="Dana Owner")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Feedback").click()
    page.wait_for_url(f"{feedback.url}/reports")
    axe.check(page, "reports")
    page.get_by_role("link", name="Library opening hours").click()
    expect(page.get_by_role("heading", name="What the results say")).to_be_visible()
    axe.check(page, "report")

    page.get_by_label("What we did").fill("Libraries will open later on weekday evenings.")
    page.get_by_label("Which hours suit you? – Evenings").check()
    page.get_by_label("It goes against what most people preferred").check()
    fill_date(page, "decided_on", "20", "11", "2026")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading",
                               name="Before you can publish this report")).to_be_visible()
    summary.get_by_role("link", name="Why: Say why the decision differs from what most "
                                     "people preferred.").click()
    assert page.evaluate("document.activeElement.id") == "why"  # the link leads to the box
    axe.check(page, "report, why missing")
    page.get_by_label("Why").fill("Evening opening serves people who work in the day.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("What was decided is saved.")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)

    page.get_by_role("link", name="Add a commitment").click()
    axe.check(page, "add a commitment")
    page.get_by_label("Action").fill("Open the library until 8pm on weekdays")
    page.get_by_label("Riverside Council").check()
    page.get_by_label("Owner").fill("Head of Libraries")
    fill_date(page, "due_on", "1", "2", "2027")
    page.get_by_role("button", name="Add the commitment").click()
    expect(page.get_by_role("cell", name="Riverside Council Head of Libraries")).to_be_visible()

    page.get_by_role("link", name="Preview as the public will see it").click()
    expect(page.get_by_text("This is a preview: nothing is published yet.")).to_be_visible()
    expect(page.get_by_role("img", name="Bar chart: Which hours suit you?")).to_have_count(0)
    axe.check(page, "preview")
    page.get_by_role("link", name="Publish it").click()
    expect(page.get_by_text("12 people who answered the survey will be told")).to_be_visible()
    expect(page.get_by_text("by email or text message (SMS)")).to_be_visible()
    expect(page.get_by_text("of them, 9 were invited by email and 3 by text message (SMS)"
                                )).to_be_visible()
    axe.check(page, "publish, confirm")
    assert smtp_server.messages == [] and sms_gateway.messages == []
    page.get_by_role("button", name="Publish and tell 12 people").click()
    expect(page.get_by_text("The report is published.")).to_be_visible()

    pump()  # feedback's worker asks panel to tell each respondent; panel's worker sends
    emails = [m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
    texts = [m["to"] for m in sms_gateway.messages if "you said, we did" in m["body"].lower()]
    assert len(emails) == 9 and len(texts) == 3  # members 0, 4 and 8 prefer SMS
    assert len(set(emails + texts)) == 12

    page.get_by_role("link", name="Read it as the public sees it").click()
    expect(page.get_by_role("heading", name="Library opening hours")).to_be_visible()
    expect(page.get_by_text("Evening opening serves people who work in the day.")).to_be_visible()
    axe.check(page, "public report")
