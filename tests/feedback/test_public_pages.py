"""What the public sees: the report list filtered by agency, area and topic, the JSON API, the
Atom feed, and never a small cell on any of them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from tests.feedback.closing import close_survey, complete_and_publish
from tests.scenario import bearer, setup_agencies

ATOM = "{http://www.w3.org/2005/Atom}"
# 23 is hidden with 7, so 7 cannot be worked out from the total; 41.3% would give 23 away.
COUNTS = {"Mornings": 40, "Evenings": 23, "Weekends": 7}
WEIGHTED = {"Mornings": 55.1, "Evenings": 41.3, "Weekends": 3.6}


def publish_all(clients, keys) -> None:
    for agency in ("council", "health"):
        officer = keys[agency]["officer"]
        for report in clients["feedback"].get("/api/v1/reports", headers=bearer(officer)).json:
            if report["status"] == "draft":
                assert complete_and_publish(clients["feedback"], officer,
                                            report["id"]).status_code == 200


def three_reports(apps, clients, pump) -> dict:
    keys = setup_agencies(apps, pump)
    close_survey(pump, COUNTS, survey_id=1, sponsors=("council", "police"),
                 areas=["E05001001"], topics=["libraries"], questions=[{
                     "code": "hours", "text": "Which hours suit you?", "type": "single_choice",
                     "base": 70, "counts": COUNTS, "mean": None, "comments": 0,
                     "weighted_percent": WEIGHTED}])
    close_survey(pump, survey_id=2, sponsors=("health",), areas=["E05001002"],
                 topics=["health"], title="GP appointments")
    close_survey(pump, survey_id=3, sponsors=("council",), areas=["E05001002"],
                 topics=["libraries", "transport"], title="Library bus")
    publish_all(clients, keys)
    return keys


def titles(response) -> list[str]:
    return sorted(re.findall(r'class="govuk-link" href="/you-said-we-did/\d+">([^<]+)</a>',
                             response.get_data(as_text=True)))


def test_the_list_filters_by_agency_area_and_topic_on_pages_and_api(apps, clients, pump):
    three_reports(apps, clients, pump)
    feedback = clients["feedback"]
    everything = ["GP appointments", "Library bus", "Library opening hours"]
    assert titles(feedback.get("/you-said-we-did")) == everything
    assert titles(feedback.get("/you-said-we-did?agency=council")) == [
        "Library bus", "Library opening hours"]
    assert titles(feedback.get("/you-said-we-did?area=E05001002")) == [
        "GP appointments", "Library bus"]
    assert titles(feedback.get("/you-said-we-did?topic=libraries&area=E05001002")) == [
        "Library bus"]
    # An unknown filter value is ignored on a page; the form offers only real values.
    page = feedback.get("/you-said-we-did?agency=nobody")
    assert titles(page) == everything
    assert '<option value="transport"' in page.get_data(as_text=True)

    api = feedback.get("/api/v1/public/reports?agency=police").json
    assert [r["title"] for r in api] == ["Library opening hours"]
    assert api[0]["areas"] == ["E05001001"] and api[0]["topics"] == ["libraries"]
    assert len(feedback.get("/api/v1/public/reports?topic=transport").json) == 1
    too_long = feedback.get("/api/v1/public/reports?agency=" + "x" * 65)
    assert too_long.status_code == 422 and "agency" in too_long.json["errors"]["query"]


def test_the_atom_feed_lists_published_reports(apps, clients, pump):
    three_reports(apps, clients, pump)
    listing = clients["feedback"].get("/you-said-we-did").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="You said, we did" '
            'href="/you-said-we-did/feed.atom">') in listing
    # Links come from FEEDBACK_URL, never from a Host header anyone can send.
    response = clients["feedback"].get("/you-said-we-did/feed.atom",
                                       headers={"Host": "attacker.example"})
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert "attacker.example" not in response.get_data(as_text=True)
    assert feed.find(f"{ATOM}id").text == "http://feedback.test/you-said-we-did/feed.atom"
    entries = feed.findall(f"{ATOM}entry")
    assert sorted(e.find(f"{ATOM}title").text for e in entries) == [
        "GP appointments", "Library bus", "Library opening hours"]
    for entry in entries:
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text).astimezone(UTC)
        assert entry.find(f"{ATOM}link").get("href").startswith(
            "http://feedback.test/you-said-we-did/")
        assert "We did: Libraries open earlier on weekdays." in entry.find(f"{ATOM}summary").text


def test_public_pages_never_show_a_suppressed_cell(apps, clients, pump):
    three_reports(apps, clients, pump)
    feedback = clients["feedback"]
    report_id = next(r["id"] for r in feedback.get("/api/v1/public/reports").json
                     if r["title"] == "Library opening hours")

    page = feedback.get(f"/you-said-we-did/{report_id}").get_data(as_text=True)
    assert ">40<" in page and "55%" in page
    for hidden in (">23<", ">7<", "41%", "41.3", "4%", "3.6"):
        assert hidden not in page, hidden
    # 7 is "fewer than 10"; 23, hidden only to protect it, is not said to be.
    assert page.count("fewer than 10") == 1 and page.count("not shown<") == 1
    assert "Most people (55%, weighted to the population) chose “Mornings”." in page

    for path in ("/api/v1/public/reports", f"/api/v1/public/reports/{report_id}"):
        body = feedback.get(path).json
        report = next(r for r in body if r["id"] == report_id) if isinstance(body, list) else body
        hours = report["results"][0]
        assert hours["counts"] == {"Mornings": 40, "Evenings": None, "Weekends": None}
        assert hours["weighted_percent"] == {"Mornings": 55.1, "Evenings": None,
                                             "Weekends": None}
        assert "survey_results" not in report
        # Timestamps aside: a publication at 10:34:41.3… holds "41.3" too.
        text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "", json.dumps(report))
        assert "41.3" not in text and "23" not in text

    for path in ("/you-said-we-did", "/you-said-we-did/feed.atom", "/scoreboard"):
        text = feedback.get(path).get_data(as_text=True)
        assert "41.3" not in text and ">23<" not in text and ">7<" not in text


def test_the_feed_and_pages_escape_what_agencies_wrote(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, sponsors=("council",), title="Parks & <play> areas")
    officer = keys["council"]["officer"]
    report = clients["feedback"].get("/api/v1/reports", headers=bearer(officer)).json[0]
    assert complete_and_publish(clients["feedback"], officer, report["id"],
                                we_did="Swings <b>fixed</b> & benches painted.").status_code == 200
    feed = ET.fromstring(clients["feedback"].get("/you-said-we-did/feed.atom").data)
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Parks & <play> areas"
    assert "Swings <b>fixed</b> & benches painted." in entry.find(f"{ATOM}summary").text
    page = clients["feedback"].get(f"/you-said-we-did/{report['id']}").get_data(as_text=True)
    assert "Parks &amp; &lt;play&gt; areas" in page and "<b>fixed</b>" not in page
