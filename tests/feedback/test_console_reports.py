"""The decision owner's report pages: completing a report drafted from the results, its
commitments and progress, the preview, publishing behind a confirmation, and their agency's
overdue list; through the pages, with the API's rules and roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.feedback.accountability import raise_overdue_flags
from shared.db import new_session
from tests.feedback.closing import close_survey
from tests.scenario import AGENCIES, add_members, bearer, setup_agencies
from tests.staff import add_staff, sign_in

NAMES = {slug: AGENCIES[slug] for slug in ("council", "police")}
DECISION = {"we_did": "Libraries open at 8am on weekdays from January.",
            "chosen": "hours:Mornings", "decision_relation": "follows",
            "decided_on-day": "20", "decided_on-month": "11", "decided_on-year": "2026"}


def text_of(answer) -> str:
    """The page's words, as a reader meets them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.get_data(as_text=True)))


def error_summary(answer) -> list[tuple[str, str]]:
    """The (link, words) of each item of the GOV.UK error summary."""
    html = answer.get_data(as_text=True)
    summary = html.split('govuk-error-summary__list', 1)[1].split("</ul>", 1)[0]
    return [(href, re.sub(r"\s+", " ", words).strip())
            for href, words in re.findall(r'<a href="([^"]*)">(.*?)</a>', summary, re.S)]


@pytest.fixture
def decision_owner(apps, clients, pump):
    """A council decision owner signed in, with a closed survey's draft report."""
    keys = setup_agencies(apps, pump)
    add_staff(apps, email="dana@council.example", agency="council", role="decision_owner",
              name="Dana Owner")
    sign_in(apps, clients, "dana@council.example")
    return keys


def report_id(clients, keys) -> int:
    reports = clients["feedback"].get("/api/v1/reports",
                                      headers=bearer(keys["council"]["officer"])).json
    return reports[0]["id"]


def test_a_decision_owner_completes_previews_and_publishes_and_each_respondent_is_told(
        apps, clients, pump, decision_owner, smtp_server, sms_gateway):
    people = add_members(clients["panel"], decision_owner["council"]["panel_manager"], 6,
                         sms_every=3)
    close_survey(pump, {"Mornings": 4, "Evenings": 2}, sponsor_names=NAMES,
                 respondent_refs=[p["member_ref"] for p in people],
                 respondent_channels={"email": 4, "sms": 2})
    feedback = clients["feedback"]
    rid = report_id(clients, decision_owner)

    listed = feedback.get("/reports")
    assert f'href="/reports/{rid}"' in listed.get_data(as_text=True)
    page = feedback.get(f"/reports/{rid}")
    assert page.status_code == 200
    words = text_of(page)
    assert "Library opening hours" in words and "Riverside Council, Riverside Police" in words
    assert "Fewer than 10 people answered, too few to report." in words  # the draft's findings
    assert "Which hours suit you? – Mornings" in words  # the answers to choose from

    saved = feedback.post(f"/reports/{rid}", data=DECISION)
    assert saved.status_code == 303
    page = feedback.get(saved.headers["Location"])
    assert "What was decided is saved." in text_of(page)
    assert "govuk-error-summary" not in page.get_data(as_text=True)

    added = feedback.post(f"/reports/{rid}/commitments/new", data={
        "action": "Open the library at 8am on weekdays", "agency": "council",
        "owner": "Head of Libraries",
        "due_on-day": "1", "due_on-month": "2", "due_on-year": "2027"})
    assert added.status_code == 303
    page = text_of(feedback.get(f"/reports/{rid}"))
    assert "Open the library at 8am on weekdays" in page and "Head of Libraries" in page

    preview = feedback.get(f"/reports/{rid}/preview")
    words = text_of(preview)
    assert "This is a preview: nothing is published yet." in words
    assert "Libraries open at 8am on weekdays from January." in words
    assert "Not published yet." in words
    assert feedback.get(f"/you-said-we-did/{rid}").status_code == 404  # still not public

    confirm = text_of(feedback.get(f"/reports/{rid}/publish"))
    assert "6 people who answered the survey will be told" in confirm
    assert "of them, 4 were invited by email and 2 by text message (SMS)" in confirm
    assert "email or text message (SMS)" in confirm
    assert smtp_server.messages == [] and sms_gateway.messages == []

    published = feedback.post(f"/reports/{rid}/publish")
    assert published.status_code == 303
    assert "The report is published." in text_of(feedback.get(published.headers["Location"]))
    pump()  # feedback's worker fans out, panel's sends each message
    told = [m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
    told += [m["to"] for m in sms_gateway.messages if "you said, we did" in m["body"].lower()]
    assert len(told) == 6 and len(set(told)) == 6
    assert len([m for m in sms_gateway.messages]) == 2  # members 0 and 3 prefer SMS
    public = text_of(feedback.get(f"/you-said-we-did/{rid}"))
    assert "Libraries open at 8am on weekdays from January." in public
    assert "Riverside Council" in public and "Head of Libraries" in public


def test_why_is_required_when_the_decision_goes_against_what_most_preferred(
        apps, clients, pump, decision_owner, smtp_server):
    close_survey(pump, {"Mornings": 30, "Evenings": 20}, sponsor_names=NAMES)
    feedback = clients["feedback"]
    rid = report_id(clients, decision_owner)
    against = {**DECISION, "chosen": "hours:Evenings", "decision_relation": "goes_against"}

    saved = feedback.post(f"/reports/{rid}", data=against)
    page = feedback.get(saved.headers["Location"])
    assert ("#why", "Why: Say why the decision differs from what most people preferred."
            ) in error_summary(page)
    assert "Before you can publish this report" in text_of(page)

    refused = feedback.post(f"/reports/{rid}/publish")
    assert refused.status_code == 400
    assert (f"/reports/{rid}#why",
            "Why: Say why the decision differs from what most people preferred.") in \
        error_summary(refused)
    assert "<title>Error: Publish" in refused.get_data(as_text=True)
    pump()
    assert smtp_server.messages == []
    assert feedback.get(f"/you-said-we-did/{rid}").status_code == 404

    # Stating it follows when most chose otherwise is refused, in the API's words.
    wrong = feedback.post(f"/reports/{rid}", data={**against, "decision_relation": "follows",
                                                   "why": "Evenings suit working people."})
    page = feedback.get(wrong.headers["Location"])
    assert any(href == "#decision_relation" and "does not follow" in words
               for href, words in error_summary(page))

    short = feedback.post(f"/reports/{rid}", data={**against, "we_did": "Too short"})
    assert short.status_code == 400
    assert ("#we_did", "What we did: Length must be between 10 and 5000.") in error_summary(short)

    fixed = feedback.post(f"/reports/{rid}", data={
        **against, "why": "Evening staff cannot be recruited before the spring."})
    assert "govuk-error-summary" not in feedback.get(fixed.headers["Location"]).get_data(
        as_text=True)
    assert feedback.post(f"/reports/{rid}/publish").status_code == 303
    public = text_of(feedback.get(f"/you-said-we-did/{rid}"))
    assert "goes against what most people preferred" in public
    assert "Evening staff cannot be recruited before the spring." in public


def test_commitments_and_progress_through_the_pages_with_the_api_rules(
        apps, clients, pump, decision_owner):
    close_survey(pump, sponsor_names=NAMES)
    feedback = clients["feedback"]
    rid = report_id(clients, decision_owner)
    form = feedback.get(f"/reports/{rid}/commitments/new").get_data(as_text=True)
    assert "Riverside Police" in form and 'value="police"' in form

    missing = feedback.post(f"/reports/{rid}/commitments/new", data={"action": "Open early"})
    assert missing.status_code == 400
    assert [href for href, _ in error_summary(missing)] == ["#agency", "#due_on"]
    for action, agency in (("Open the library at 8am on weekdays", "council"),
                           ("Patrol the library car park", "police")):
        assert feedback.post(f"/reports/{rid}/commitments/new", data={
            "action": action, "agency": agency,
            "due_on-day": "1", "due_on-month": "2", "due_on-year": "2027"}).status_code == 303
    commitments = feedback.get(f"/api/v1/reports/{rid}", headers=bearer(
        decision_owner["council"]["decision_owner"])).json["commitments"]
    ours, theirs = (c["id"] for c in commitments)

    page = feedback.get(f"/reports/{rid}").get_data(as_text=True)
    assert f"/commitments/{ours}/updates" in page
    assert f"/commitments/{theirs}/updates" not in page  # only the police report its progress
    assert feedback.post(f"/reports/{rid}/commitments/{theirs}/updates",
                         data={"text": "Started.", "status": "in_progress"}).status_code == 403

    dropped = feedback.post(f"/reports/{rid}/commitments/{ours}/updates",
                            data={"text": "Not going ahead.", "status": "dropped"})
    assert dropped.status_code == 400
    assert ("#reason", "Why it was dropped: A dropped commitment needs a reason.") in \
        error_summary(dropped)
    progress = {"text": "Rotas agreed with staff.", "status": "in_progress",
                "written_on-day": "10", "written_on-month": "1", "written_on-year": "2027"}
    for _ in range(2):  # sent twice (a double click): back to the report, kept once
        sent = feedback.post(f"/reports/{rid}/commitments/{ours}/updates", data=progress)
        assert sent.status_code == 303 and sent.location.endswith("#commitments")
    words = text_of(feedback.get(f"/reports/{rid}"))
    assert words.count("10 January 2027: Rotas agreed with staff.") == 1
    assert "in progress" in words
    again = feedback.post(f"/reports/{rid}/commitments/new", data={
        "action": "Open the library at 8am on weekdays", "agency": "council",
        "due_on-day": "1", "due_on-month": "2", "due_on-year": "2027"})
    assert again.status_code == 303
    assert len(feedback.get(f"/api/v1/reports/{rid}", headers=bearer(
        decision_owner["council"]["decision_owner"])).json["commitments"]) == 2


def test_another_agencys_report_is_not_found_and_an_analyst_is_refused(
        apps, clients, pump, decision_owner):
    close_survey(pump, sponsors=("police",), sponsor_names=NAMES)
    feedback = clients["feedback"]
    police = feedback.get("/api/v1/reports",
                          headers=bearer(decision_owner["police"]["officer"])).json[0]["id"]
    for path in ("", "/preview", "/publish", "/commitments/new"):
        assert feedback.get(f"/reports/{police}{path}").status_code == 404, path
    assert feedback.post(f"/reports/{police}", data=DECISION).status_code == 404
    assert feedback.post(f"/reports/{police}/publish").status_code == 404

    add_staff(apps, email="ana@council.example", agency="council", role="analyst")
    sign_in(apps, clients, "ana@council.example")
    for path in ("/reports", f"/reports/{police}", f"/reports/{police}/preview",
                 "/reports/overdue"):
        assert feedback.get(path).status_code == 403, path
    assert feedback.post(f"/reports/{police}/publish").status_code == 403
    assert feedback.post(f"/api/v1/reports/{police}/publish", headers=bearer(
        decision_owner["council"]["analyst"])).status_code == 403


def test_their_agencys_overdue_reports_and_late_commitments_and_the_scoreboards_view(
        apps, clients, pump, decision_owner):
    long_ago = datetime.now(UTC) - timedelta(days=90)
    close_survey(pump, survey_id=7, closed_at=long_ago, sponsor_names=NAMES)
    close_survey(pump, survey_id=8, title="Bin collections", sponsor_names=NAMES,
                 closed_at=datetime.now(UTC) - timedelta(days=2))
    feedback = clients["feedback"]
    owner = bearer(decision_owner["council"]["decision_owner"])
    reports = {r["title"]: r["id"] for r in feedback.get("/api/v1/reports", headers=owner).json}
    assert feedback.post(f"/api/v1/reports/{reports['Bin collections']}/commitments",
                         headers=owner, json={"action": "Collect bins weekly", "agency": "council",
                                              "due_on": "2026-01-05"}).status_code == 201
    with apps["feedback"].app_context(), new_session() as session:  # the daily job's run
        raise_overdue_flags(session, now=datetime.now(UTC),
                            overdue_days=apps["feedback"].config["FEEDBACK_OVERDUE_DAYS"])
    words = text_of(feedback.get("/reports/overdue"))
    assert "Riverside Council" in words
    overdue = words.split("Reports overdue", 1)[1].split("Commitments past", 1)[0]
    assert "Library opening hours" in overdue and "Bin collections" not in overdue
    late = words.split("Commitments past their due date", 1)[1]
    assert "Collect bins weekly" in late and "5 January 2026" in late
    scoreboard = words.split("How the public scoreboard shows Riverside Council", 1)[1]
    assert "Reports overdue 1" in scoreboard and "Commitments late 1" in scoreboard

    library = reports["Library opening hours"]
    assert feedback.post(f"/reports/{library}", data={**DECISION, "chosen": "hours:Mornings"}
                         ).status_code == 303
    assert feedback.post(f"/reports/{library}/publish").status_code == 303
    words = text_of(feedback.get("/reports/overdue"))  # before the next daily run
    assert "No report is overdue." in words and "Reports published 1" in words


def test_published_reports_and_the_scoreboard_draw_their_figures_as_charts_beside_tables(
        apps, clients, pump, decision_owner):
    close_survey(pump, {"Mornings": 30, "Evenings": 18, "Weekends": 4}, sponsor_names=NAMES)
    feedback = clients["feedback"]
    rid = report_id(clients, decision_owner)
    chart = f"/you-said-we-did/{rid}/charts/hours.svg"
    assert feedback.get(chart).status_code == 404  # a draft's figures are not public
    preview = feedback.get(f"/reports/{rid}/preview").get_data(as_text=True)
    assert f'src="/reports/{rid}/preview/charts/hours.svg"' in preview
    assert feedback.get(f"/reports/{rid}/preview/charts/hours.svg").status_code == 200

    assert feedback.post(f"/reports/{rid}", data=DECISION).status_code == 303
    assert feedback.post(f"/reports/{rid}/publish").status_code == 303
    page = feedback.get(f"/you-said-we-did/{rid}").get_data(as_text=True)
    image = re.search(r'<img class="console-chart" src="([^"]+)" alt="([^"]+)"', page)
    assert image.group(1) == chart
    assert image.group(2) == ("Bar chart: Which hours suit you? (number of people). "
                              "Mornings: 30. 2 of the answers are left out to protect privacy: "
                              "see the table.")
    assert page.index("console-chart") < page.index("<table")  # the table is beside it

    svg = feedback.get(chart)
    assert svg.mimetype == "image/svg+xml" and "script" not in svg.headers[
        "Content-Security-Policy"]
    drawn = svg.get_data(as_text=True)
    assert "<title>Which hours suit you? (number of people)</title>" in drawn
    assert "<script" not in drawn and not drawn.startswith("<?xml")
    # Suppressed cells stay hidden: neither the small group nor the one that would give it away.
    assert set(re.findall(r'class="value">\xa0*([^<]*)<', drawn)) == {"30"}
    assert "Mornings" in drawn and "Evenings" not in drawn and "Weekends" not in drawn

    board = feedback.get("/scoreboard").get_data(as_text=True)
    assert 'src="/scoreboard/published.svg"' in board
    assert "Riverside Council: 100%; Riverside Police: 100%" in board  # the alt text
    assert '<th scope="row" class="govuk-table__header">Riverside Council</th>' in board
    drawn = feedback.get("/scoreboard/published.svg").get_data(as_text=True)
    assert "Riverside Police" in drawn and ">police<" not in drawn
    assert "<title>Closed surveys with a report published (%), per agency</title>" in drawn
    assert feedback.get("/scoreboard/on-time.svg").status_code == 404  # no commitments yet
