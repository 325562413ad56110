"""An analyst in a real browser: signs in, weights two co-sponsored surveys, reads a table with
intervals, builds an SPSS export that the real worker builds while its page refreshes itself,
downloads it and opens it with pyreadstat, reads a bank question's trend and their own pulls;
every page passes axe-core at desktop width and on a phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pyreadstat
from playwright.sync_api import expect

from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.scenario import setup_agencies
from tests.staff import signed_in_browser
from tests.surveys.test_analysis import OPTIONS, seed_survey, seed_targets
from tests.surveys.test_console_trends import bank_it

ANALYST = "ana.analyst@council.example"


def test_an_analyst_weights_reads_exports_to_spss_and_follows_a_trend(
        apps, clients, pump, live_console, page, axe, tmp_path):  # noqa: F811
    surveys = live_console["surveys"]
    app = apps["surveys"]
    setup_agencies(apps, pump)
    seed_targets(app)
    town = seed_survey(app, sponsors=("police", "council"), respondents=120,
                       title="Town centre", launched=datetime(2026, 2, 2, tzinfo=UTC))
    parks = seed_survey(app, sponsors=("council", "police"), respondents=90, title="Parks",
                        launched=datetime(2026, 7, 6, tzinfo=UTC))
    bank_it(app, [town, parks])
    signed_in_browser(page, apps, surveys.url,
                      email=ANALYST, agency="council", role="analyst", name="Ana Analyst")
    page.wait_for_url(f"{surveys.url}/surveys")

    # Weight the two co-sponsored surveys by gender and age.
    page.get_by_role("link", name="Results", exact=True).click()
    axe.check(page, "results: choose surveys")
    page.get_by_label("Town centre (closed; Riverside Council, Riverside Police)").check()
    page.get_by_label("Parks (closed; Riverside Council, Riverside Police)").check()
    page.get_by_label("Gender").check()
    page.get_by_label("Age").check()
    page.get_by_role("button", name="Show the weighting").click()
    expect(page.get_by_text("Yes, in ")).to_have_count(2)
    expect(page.locator("img[src^='data:image/svg+xml']")).to_have_count(4)
    expect(page.locator("table")).to_have_count(4)  # each chart's table beside it
    axe.check(page, "weighting of two surveys")

    # A question by age: weighted percentages with their 95% intervals.
    page.get_by_label("What should we spend most on?").check()
    page.get_by_label("Age", exact=True).last.check()
    page.get_by_role("button", name="Show the table").click()
    lighting = page.get_by_role("table", name=f"{OPTIONS[0]}: weighted % by age")
    everyone = lighting.get_by_role("row").filter(has_text="Everyone").inner_text()
    assert " to " in everyone and "%" in everyone
    axe.check(page, "table by age with intervals")

    # An SPSS file of both surveys, built in the background.
    page.get_by_role("link", name="Back to the weighting").click()
    page.get_by_role("link", name="build the file in the background").click()
    assert page.get_by_label("Town centre (closed; Riverside Council, Riverside Police)") \
        .is_checked()
    axe.check(page, "export form")
    page.get_by_label("SPSS: every variable and value labelled, categories coded").check()
    page.get_by_role("button", name="Build the file").click()
    page.wait_for_url("**/results/exports/*")
    expect(page.locator(".app-progress__bar--0")).to_have_count(1)
    expect(page.get_by_text("This page refreshes itself every 2 seconds")).to_be_visible()
    # Its refresh can be stopped (WCAG 2.2.1), and the page is read by axe that way, still.
    page.get_by_role("link", name="Stop refreshing").click()
    expect(page.get_by_text("Waiting to start").nth(0)).to_be_attached()
    axe.check(page, "export waiting to start")
    page.get_by_role("link", name="Refresh this page").click()
    expect(page.get_by_role("link", name="Stop refreshing")).to_be_visible()
    pump()  # the real worker builds the file while the page keeps refreshing itself
    download_link = page.get_by_role("link", name="Download the SPSS file")
    download_link.wait_for()  # the page refreshed itself to its finished state
    expect(page.locator(".app-progress__bar--100")).to_have_count(1)
    expect(page.get_by_text("Built: 210 rows")).to_be_visible()
    axe.check(page, "export ready")
    with page.expect_download() as downloading:
        download_link.click()
    path = tmp_path / "from-the-console.sav"
    downloading.value.save_as(path)
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 210
    assert {"survey_id", "respondent_id", "weight", "feel_safe", "priority", "gender",
            "age_band"} <= set(meta.column_names)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["priority"] == "What should we spend most on?"
    assert meta.variable_value_labels["feel_safe"][5.0] == "Very safe"
    assert sorted(set(frame["survey_id"])) == sorted([town, parks])

    # The bank question's trend, from the question bank.
    page.goto(f"{surveys.url}/question-bank")
    page.locator("#bank-feel_safe").get_by_role("link", name="Results across your surveys") \
        .click()
    assert page.get_by_role("heading", level=1).inner_text() == "How safe?"
    safe = page.get_by_role("table", name="4 – Safe: weighted % wave by wave")
    rows = safe.get_by_role("row").all_inner_texts()
    assert rows[1].startswith("Wave 1: Town centre, Feb 2026")
    assert rows[2].startswith("Wave 2: Parks, Jul 2026")
    expect(page.locator("img[src^='data:image/svg+xml']")).to_have_count(5)
    axe.check(page, "bank question trend")

    # A survey's own answers, counted, from its overview.
    page.goto(f"{surveys.url}/surveys/{town}")
    page.get_by_role("button", name="Results", exact=True).click()
    page.wait_for_url(f"{surveys.url}/surveys/{town}/results")
    counted = page.get_by_role("table", name="What should we spend most on?: answers counted")
    expect(counted.get_by_role("row")).to_have_count(4)
    axe.check(page, "a survey's answers counted")

    # Their own pulls, as the audit log has them.
    page.goto(f"{surveys.url}/results")
    page.get_by_role("link", name="What you have pulled").click()
    expect(page.get_by_role("heading", name="What you have pulled", level=1)).to_be_visible()
    pulls = page.get_by_role("table").get_by_role("row").all_inner_texts()
    whats = [row.split("\t")[1] for row in pulls[1:]]
    assert whats[0].startswith("Read a weighted table")  # the trend, newest first
    assert "“How safe?”" in whats[0]  # the question in words, not its code
    assert any(w.startswith("Downloaded an export (SAV)") for w in whats)
    assert any(w.startswith("Built an export (SAV)") for w in whats)
    assert any(w.startswith("Read survey weights") for w in whats)
    axe.check(page, "your pulls")
