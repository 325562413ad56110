"""An analyst finds and steers the themes of free-text answers in a real browser: the themes
page (its chart beside its table) and a theme's answers pass axe-core, and the report page
shows the themes to the public."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.staff import signed_in_browser
from tests.surveys.test_themes import answered_survey


def test_an_analyst_finds_renames_and_keeps_an_answer_out_of_the_quotes(
        apps, clients, pump, live_console, page, axe, tmp_path):  # noqa: F811
    surveys = live_console["surveys"]
    survey_id, _ = answered_survey(apps, clients, pump)
    signed_in_browser(page, apps, surveys.url,
                      email="ana@council.example", agency="council", role="analyst",
                      name="Ana Lyst")
    page.wait_for_url(f"{surveys.url}/surveys")
    page.goto(f"{surveys.url}/surveys/{survey_id}")
    page.get_by_role("link", name="Themes in the answers to “Anything else?”").click()
    page.get_by_role("button", name="Find the themes").click()
    expect(page.locator("#progress").get_by_text("Finding the themes: 0% done")).to_be_visible()
    axe.check(page, "themes, being found")
    pump()
    page.reload()
    expect(page.get_by_text("Found in 100 answers")).to_be_visible()
    expect(page.get_by_role("img", name="Share of answers by theme")).to_be_visible()
    expect(page.locator("#themes tbody tr").nth(3)).to_be_attached()
    axe.check(page, "themes, found")
    page.screenshot(path=str(tmp_path / "themes.png"), full_page=True)

    page.locator("#themes tbody tr").first.get_by_role("link").click()
    page.get_by_label("New name").fill("Safer streets at night")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Theme renamed.")).to_be_visible()
    page.get_by_role("link", name="Safer streets at night").click()
    axe.check(page, "one theme's answers")
    quoted = page.locator("#answers tbody tr").filter(has_text="Quoted").first
    words = quoted.locator("td").first.inner_text().replace("Quoted", "").strip()
    quoted.get_by_role("button", name="Do not quote this answer").click()
    expect(page.get_by_text("That answer will not be quoted.")).to_be_visible()
    expect(page.locator("ul.govuk-list--bullet").get_by_text(words, exact=False)).to_have_count(0)
    page.screenshot(path=str(tmp_path / "themes-after.png"), full_page=True)
    print(f"screenshots: {tmp_path}")
