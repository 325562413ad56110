"""A panel manager in a real browser with JavaScript switched off: imports a 5,000-row CSV and
watches its progress bar move as the page refreshes itself, reads the bad rows, uploads
population targets, reads how well the panel represents the place, starts a campaign and
opens its poster, whose QR code (read from the printed page) is the campaign's join link."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.panel.test_imports import HEADER, good_row
from tests.pump import ThreadWorker
from tests.scenario import setup_agencies
from tests.staff import signed_in_browser

ROWS = 5000
BAD_AGE = "X{n},b{n}@example.org,,email,en,12-15,female,asian,disabled,E05001003,,,yes,no,\n"
CENSUS = "vintage,area,area_name,dimension,category,population\n" + "".join(
    f"census-2021,E05001003,Castle Hill,age_band,{age},{n}\n" for age, n in (
        ("16-24", 900), ("25-34", 800), ("35-44", 700), ("45-54", 700), ("55-64", 600),
        ("65-74", 500), ("75+", 400))) + "census-2021,E05001003,Castle Hill,gender,female,2300\n" \
    "census-2021,E05001003,Castle Hill,gender,male,2300\n"
A4_POINTS = (595, 842)


def members_file() -> bytes:
    """5,000 rows, every 50th with an age band nobody has (so 100 bad rows)."""
    return (HEADER + "".join(BAD_AGE.format(n=n) if n % 50 == 0 else good_row(n)
                             for n in range(ROWS))).encode()


def bar(page) -> int:
    return int(page.locator("#progress [role=progressbar]").get_attribute("aria-valuenow"))


def watch_progress(page, limit_seconds: float = 600) -> list[int]:
    """The bar's value at every load of the page, as it refreshes itself, until it is full;
    a refresh that comes before the wait for it is caught by the next check. (Asking for the
    page's refresh tag instead found none while the page was being replaced, and stopped.)"""
    seen = [bar(page)]
    ends = time.monotonic() + limit_seconds
    while seen[-1] < 100 and time.monotonic() < ends:
        try:
            page.wait_for_event("load", timeout=5000)
        except PlaywrightTimeout:
            pass
        page.wait_for_load_state()
        seen.append(bar(page))
    return seen


class InThread(threading.Thread):
    """The pump, with real RQ workers, on a thread of its own; join() raises what it raised."""

    def __init__(self, pump):
        super().__init__(daemon=True)
        self.pump, self.failure = pump, None
        self.start()

    def run(self) -> None:
        try:
            self.pump(worker_class=ThreadWorker)
        except BaseException as failure:  # noqa: BLE001 - handed to the test's thread
            self.failure = failure

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.failure is not None:
            raise self.failure


def qr_text(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# 5,000 rows through the real import, one savepoint a row, on a shared 2-core machine.
@pytest.mark.timeout(900)
def test_a_panel_manager_imports_reads_representativeness_and_makes_a_campaign_poster(
        apps, pump, live_console, no_js_page, axe, tmp_path):  # noqa: F811
    page, panel, surveys = no_js_page, live_console["panel"], live_console["surveys"]
    setup_agencies(apps, pump)
    signed_in_browser(page, apps, surveys.url,
                      email="pat@council.example", agency="council", role="panel_manager",
                      name="Pat Manager")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Panel").click()
    page.wait_for_url(f"{panel.url}/panel")
    axe.check(page, "panel")

    page.get_by_role("link", name="Imports").click()
    axe.check(page, "imports")
    page.get_by_label("Upload a CSV file").set_input_files(files=[{
        "name": "panel-5000.csv", "mimeType": "text/csv", "buffer": members_file()}])
    page.get_by_role("button", name="Start the import").click()
    expect(page.get_by_role("heading", name="panel-5000.csv: waiting to start")).to_be_visible()
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)
    axe.check(page, "import waiting")
    worker = InThread(pump)  # panel's worker imports while the page refreshes itself
    try:
        seen = watch_progress(page)
    finally:
        worker.join()
    expect(page.get_by_role("heading", name="panel-5000.csv: finished")).to_be_visible()
    moving = sorted(set(seen) - {0, 100})
    assert len(moving) >= 2, f"the bar showed only {seen}"
    assert seen == sorted(seen) and seen[-1] == 100
    expect(page.get_by_text("5,000 of 5,000 rows checked (100%)")).to_be_visible()
    problems = page.locator("#problems tbody tr")
    expect(problems).to_have_count(100)
    assert problems.first.inner_text().split("\t")[:2] == ["2", "age_band"]
    expect(page.get_by_role("link", name="Download every problem as a CSV file")).to_be_visible()
    axe.check(page, "import finished")

    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="Population targets").click()
    page.get_by_label("Upload a census file").set_input_files(files=[{
        "name": "census.csv", "mimeType": "text/csv", "buffer": CENSUS.encode()}])
    page.get_by_role("button", name="Upload the targets").click()
    expect(page.get_by_text("9 targets stored.")).to_be_visible()
    expect(page.locator("#areas").get_by_role("rowheader", name="Castle Hill")).to_be_visible()
    axe.check(page, "targets")

    page.get_by_role("link", name="Representativeness").click()
    page.get_by_label("Ward").select_option(label="Castle Hill")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading",
                                name="How well the panel represents Castle Hill")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Bar chart of age"))).to_be_visible()
    ages = page.locator("#table-age_band")
    expect(ages.get_by_role("rowheader", name=re.compile("35 to 44"))).to_be_visible()
    assert "Age: 16 to 24" in page.locator("#under").inner_text()
    axe.check(page, "representativeness")

    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Start a campaign").click()
    axe.check(page, "start a campaign")
    page.get_by_role("button", name="Start the campaign").click()
    expect(page.get_by_role("link", name="Enter a name for the campaign.")).to_be_visible()
    axe.check(page, "start a campaign, with an error")
    page.get_by_label("Name").fill("Young voices in Castle Hill")
    page.get_by_label("Code (optional)").fill("young26")
    page.get_by_role("group", name="Age").get_by_label("16 to 24").check()
    page.get_by_role("group", name="Ward").get_by_label("Castle Hill").check()
    page.get_by_label("Cost (optional)").fill("1,500")
    page.get_by_role("button", name="Start the campaign").click()
    expect(page.get_by_text("The campaign is started")).to_be_visible()
    join_link = page.locator("#reach").get_by_role("link").inner_text()
    assert join_link == f"{panel.url}/join?c=YOUNG26"
    expect(page.get_by_text("JOIN YOUNG26")).to_be_visible()
    expect(page.locator("#reach").get_by_text("16 to 24")).to_be_visible()
    axe.check(page, "campaign")

    page.get_by_role("link", name="Poster to print (A4, with a QR code)").click()
    expect(page.get_by_role("heading", name="Have your say on local services")).to_be_visible()
    axe.check(page, "poster")
    page.emulate_media(media="print")
    page.screenshot(path=str(tmp_path / "poster-print.png"), full_page=True)
    expect(page.get_by_role("navigation", name="Menu")).not_to_be_visible()  # only the poster
    assert qr_text(page.locator("#qr").screenshot()) == [join_link]
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (tmp_path / "poster.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # one sheet
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert tuple(round(float(side)) for side in box.groups()) == A4_POINTS
