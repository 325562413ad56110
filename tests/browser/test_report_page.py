"""A member of the public reads a "you said, we did" report in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.feedback.closing import close_survey, complete_and_publish, only_report
from tests.scenario import bearer, setup_agencies


def published_report(apps, clients, pump) -> int:
    keys = setup_agencies(apps, pump)
    close_survey(pump, {"Mornings": 30, "Evenings": 24, "Weekends": 3},
                 sponsors=("council", "police"), areas=["E05001001"], topics=["libraries"])
    close_survey(pump, survey_id=8, sponsors=("health",), title="GP appointments",
                 topics=["health"])
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    made = clients["feedback"].post(
        f"/api/v1/reports/{report['id']}/commitments", headers=bearer(officer),
        json={"action": "Open at 8am on weekdays", "agency": "council", "due_on": "2027-02-01"})
    assert made.status_code == 201
    published = complete_and_publish(
        clients["feedback"], officer, report["id"], decision_relation="partly_follows",
        why="Mornings were most popular, but only weekdays can be staffed this year.")
    assert published.status_code == 200, published.json
    health = keys["health"]["officer"]
    other = only_report(clients["feedback"], health)
    assert complete_and_publish(clients["feedback"], health, other["id"]).status_code == 200
    return report["id"]


def test_a_reader_finds_a_report_by_topic_and_reads_what_was_said_and_done(
        apps, clients, pump, live_feedback, page, axe):
    report_id = published_report(apps, clients, pump)
    page.goto(f"{live_feedback.url}/you-said-we-did")
    expect(page.get_by_role("heading", name="You said, we did")).to_be_visible()
    axe.check(page, "report list")

    # The filter form works as a plain GET form.
    page.get_by_label("Topic").select_option("libraries")
    page.get_by_role("button", name="Apply filters").click()
    assert "topic=libraries" in page.url
    axe.check(page, "report list, filtered")
    expect(page.get_by_role("link", name="GP appointments")).to_have_count(0)
    page.get_by_role("link", name="Library opening hours").click()

    assert page.url.endswith(f"/you-said-we-did/{report_id}")
    assert page.locator("h1").inner_text() == "Library opening hours"
    axe.check(page, "report")
    for heading in ("We asked", "You said", "We did", "Why", "What we promised"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_text("Most people (53%) chose “Mornings”.")).to_be_visible()

    table = page.get_by_role("table", name="Answers to: Which hours suit you? (57 people answered)")
    rows = table.locator("tbody tr")
    assert [rows.nth(i).inner_text().split("\t")[0] for i in range(rows.count())] == [
        "Mornings", "Evenings", "Weekends"]
    assert rows.nth(0).locator("td").inner_text() == "30"
    # A hidden cell reads as a range, and says why to screen readers.
    assert rows.nth(2).locator("td").inner_text().startswith("fewer than 10")
    assert "hidden to protect privacy" in rows.nth(2).locator("td").text_content()
    assert "24" not in rows.nth(1).locator("td").inner_text()

    expect(page.get_by_text("partly follows what most people preferred")).to_be_visible()
    expect(page.get_by_text("only weekdays can be staffed this year")).to_be_visible()
    expect(page.get_by_role("cell", name="Open at 8am on weekdays")).to_be_visible()
    # No JavaScript is needed, or sent.
    expect(page.locator("script")).to_have_count(0)

    page.get_by_role("link", name="All reports").click()
    expect(page.get_by_role("link", name="GP appointments")).to_be_visible()
