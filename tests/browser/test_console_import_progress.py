"""With JavaScript running, an import's page updates its figures in place while panel's worker
imports (no reload), says them in a polite live region, and shows the result when it ends."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console_panel_journey import BAD_AGE, InThread
from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.panel.test_imports import HEADER, good_row
from tests.scenario import setup_agencies
from tests.staff import signed_in_browser

ROWS = 800


def test_the_import_page_updates_in_place_with_javascript(
        apps, pump, live_console, page, axe):  # noqa: F811
    panel, surveys = live_console["panel"], live_console["surveys"]
    setup_agencies(apps, pump)
    signed_in_browser(page, apps, surveys.url,
                      email="pat@council.example", agency="council", role="panel_manager")
    page.goto(f"{panel.url}/panel/imports")
    body = HEADER + "".join(BAD_AGE.format(n=n) if n % 100 == 0 else good_row(n)
                            for n in range(ROWS))
    page.get_by_label("Upload a CSV file").set_input_files(files=[{
        "name": "panel.csv", "mimeType": "text/csv", "buffer": body.encode()}])
    page.get_by_role("button", name="Start the import").click()
    expect(page.get_by_role("heading", name="panel.csv: waiting to start")).to_be_visible()
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)  # inert in <noscript>
    assert page.locator("#progress-label").get_attribute("aria-live") == "polite"
    axe.check(page, "import waiting, with JavaScript")
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    page.evaluate("window.seenValues = []; new MutationObserver(() => window.seenValues.push("
                  "document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')"
                  ")).observe(document.getElementById('import-status'), "
                  "{subtree: true, childList: true, attributes: true})")
    worker = InThread(pump)
    try:
        page.get_by_role("heading", name="panel.csv: finished").wait_for(timeout=300_000)
    finally:
        worker.join()
    assert loads == []  # the figures changed in place, the page never reloaded
    expect(page.get_by_text("800 of 800 rows checked (100%)")).to_be_visible()
    expect(page.locator("#problems tbody tr")).to_have_count(8)
    assert "100" in page.evaluate("window.seenValues")
    axe.check(page, "import finished, with JavaScript")
