"""An officer's whole survey in a real browser: signed in by the link emailed to them, they
build a joint survey with a show-if question and Welsh texts, preview it, see an overlap with
another agency's survey, read panel's pre-launch count, launch, monitor fieldwork with its
charts, top up and close. The co-sponsor's officer sees it and accepts; an officer of an
agency that does not sponsor it gets the not-found page. axe-core checks every page.

Signing out (every service then refuses the old cookie) and a form without its CSRF token are
in test_console_sign_in.py."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.test_console_sign_in import (
    emailed_link,
    live_console,  # noqa: F401 - a fixture
)
from tests.panel.test_targets import upload_targets
from tests.scenario import bearer, member_payload, survey_payload
from tests.staff import add_staff, link_for
from tests.surveys.steps import invitations, window

CENTRAL = "E05001001"
TITLE = "Feeling safe in the town centre"
WELSH_TITLE = "Teimlo'n ddiogel yng nghanol y dref"


def join_panel(clients, keys, start: int, count: int, age_band: str) -> None:
    for index in range(start, start + count):
        joined = clients["panel"].post("/api/v1/members", headers=bearer(
            keys["council"]["panel_manager"]), json=member_payload(index, age_band=age_band))
        assert joined.status_code == 201, joined.json


def sign_in_as(browser, surveys_url: str, apps, email: str):
    """Another member of staff, in a browser of their own, by their own sign-in link."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(surveys_url + link_for(apps, email))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{surveys_url}/surveys")
    return page


def fill_date(page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def held_still(page):
    """While panel is counting the launch page reloads itself (its `Refresh` header); for axe
    to read it, this page's copy is fetched once with the header taken off."""
    def strip(route):
        answer = route.fetch()
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "refresh"}
        route.fulfill(response=answer, headers=headers)
    page.route("**/launch", strip)
    return strip


def test_an_officer_builds_launches_monitors_tops_up_and_closes_a_joint_survey(
        apps, clients, pump, smtp_server, live_console, page, browser, axe):  # noqa: F811
    surveys = live_console["surveys"].url
    page.set_default_timeout(10_000)
    keys, _ = upload_targets(apps, clients, pump)  # ward names come with the census
    pump()
    add_staff(apps, email="olu@council.example", agency="council", role="officer",
              name="Olu Okafor")
    add_staff(apps, email="pat@police.example", agency="police", role="officer",
              name="Pat Price")
    add_staff(apps, email="cal@college.example", agency="college", role="officer",
              name="Cal Cole")
    # The panel: 1 young member and 4 older ones in Riverside Central; Riverside Health is
    # already asking the same ward about community safety.
    join_panel(clients, keys, 0, 1, "16-24")
    join_panel(clients, keys, 1, 4, "65-74")
    health = clients["surveys"].post("/api/v1/surveys", headers=bearer(
        keys["health"]["officer"]), json=survey_payload(
            title="The town centre at night", sponsors=[("health", "100.00")], areas=[CENTRAL],
            topics=["community safety"], fieldwork=window(21)))
    assert health.status_code == 201, health.json

    # -- sign in by the emailed link ------------------------------------------------------
    page.goto(f"{surveys}/sign-in")
    page.get_by_label("Your work email address").fill("olu@council.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    pump()
    page.goto(emailed_link(smtp_server, "olu@council.example"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{surveys}/surveys")
    axe.check(page, "journey: surveys")

    # -- build: details, sponsors, areas and topics, fieldwork, languages, questions ----------
    page.get_by_role("link", name="Create a survey").click()
    page.get_by_label("Title").fill(TITLE)
    axe.check(page, "journey: new survey")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url("**/build")
    survey_id = int(page.url.rstrip("/").split("/")[-2])
    axe.check(page, "journey: task list")

    page.get_by_role("link", name="Details").click()
    page.get_by_label("Summary").fill("Help the partnership decide how to make the town "
                                      "centre safer.")
    page.get_by_label("Purpose").fill("To decide where to spend the town-centre safety budget.")
    page.get_by_label("Scope").fill("Lighting and patrols can change; the budget cannot.")
    page.get_by_label("Decision", exact=True).fill("Allocate the town-centre safety budget")
    page.get_by_label("Decision owner").fill("Community Safety Partnership board")
    fill_date(page, "When the decision is due", date.today() + timedelta(days=60))
    axe.check(page, "journey: details")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/build")

    page.get_by_role("link", name="Sponsors").click()
    page.get_by_label("Riverside Council").fill("60")
    page.get_by_label("Riverside Police").fill("40")
    axe.check(page, "journey: sponsors")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/build")

    page.get_by_role("link", name="Areas and topics").click()
    page.get_by_label("Riverside Central").check()
    page.get_by_label("Topics").fill("community safety")
    axe.check(page, "journey: areas and topics")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/build")

    page.get_by_role("link", name="Fieldwork").click()
    fill_date(page, "Ends", date.today() + timedelta(days=28))
    page.get_by_label("Sample size").fill("4")
    page.locator("#quotas-0-cell").select_option(label="Age: 16 to 24")
    page.locator("#quotas-0-target").fill("2")
    page.locator("#quotas-1-cell").select_option(label="Age: 65 to 74")
    page.locator("#quotas-1-target").fill("2")
    axe.check(page, "journey: fieldwork")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/build")

    page.get_by_role("link", name="Languages").click()
    page.get_by_label("Welsh (Cymraeg)").check()
    page.get_by_label("Title in Welsh").fill(WELSH_TITLE)
    page.get_by_label("Summary in Welsh").fill("Helpwch y bartneriaeth i benderfynu.")
    axe.check(page, "journey: languages")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/build")

    page.get_by_role("link", name="Questions").click()
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("Question", exact=True).fill("Do you go into the town centre after dark?")
    page.get_by_label("Question code").fill("after_dark")
    page.get_by_label("Yes or no").check()
    page.get_by_label("Question in Welsh").fill("Ydych chi'n mynd i ganol y dref ar ôl iddi "
                                                "dywyllu?")
    axe.check(page, "journey: add a question")
    page.get_by_role("button", name="Save question").click()
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("Question", exact=True).fill("What would make you feel safer?")
    page.get_by_label("Question code").fill("safer")
    page.get_by_label("Single choice (one option)").check()
    page.get_by_label("Options (single or multiple choice)").fill(
        "Street lighting\nPolice patrols")
    page.get_by_label("Question in Welsh").fill("Beth fyddai'n gwneud i chi deimlo'n fwy diogel?")
    page.get_by_label("Options in Welsh").fill("Goleuadau stryd\nPatrolau heddlu")
    page.get_by_label("“Do you go into the town centre after dark?” is Yes").check()
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("is answered “Yes”")).to_be_visible()
    axe.check(page, "journey: questions")

    # -- preview, in English and in Welsh; the SMS dialogue -------------------------------
    page.goto(f"{surveys}/surveys/{survey_id}")
    expect(page.get_by_text("Riverside Police: invited at 40%, not yet answered")).to_be_visible()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("What would make you feel safer?")).to_be_visible()
    axe.check(page, "journey: preview")
    page.goto(f"{surveys}/surveys/{survey_id}/preview?lang=cy")
    assert page.get_by_role("heading", level=1).inner_text().endswith(WELSH_TITLE)
    axe.check(page, "journey: preview in Welsh")
    page.goto(f"{surveys}/surveys/{survey_id}/preview/sms")
    axe.check(page, "journey: SMS preview")

    # -- the overlap, on the survey's page --------------------------------------------------
    page.goto(f"{surveys}/surveys/{survey_id}")
    expect(page.get_by_text(
        "1 other survey asks the same wards about the same topics")).to_be_visible()
    expect(page.get_by_role("heading",
                            name="Overlaps with: The town centre at night")).to_be_visible()
    expect(page.get_by_role("button", name="Ask to join instead")).to_be_visible()
    axe.check(page, "journey: overview with an overlap")

    # -- the co-sponsor accepts, and sees the survey without Launch --------------------------
    pat = sign_in_as(browser, surveys, apps, "pat@police.example")
    pat.get_by_role("link", name="Invitations to co-sponsor other agencies' surveys").click()
    axe.check(pat, "journey: co-sponsor's invitations")
    pat.get_by_role("button", name="Accept").first.click()
    expect(pat.get_by_text(f"You accepted: your agency now co-sponsors {TITLE}")).to_be_visible()
    pat.goto(f"{surveys}/surveys/{survey_id}")
    expect(pat.get_by_text("Riverside Council (you co-sponsor this survey)")).to_be_visible()
    expect(pat.get_by_text(
        "Only the lead agency, Riverside Council, launches and closes")).to_be_visible()
    expect(pat.get_by_role("button", name="Launch")).to_have_count(0)
    axe.check(pat, "journey: co-sponsor's view")

    # -- an agency that does not sponsor it: the not-found page ------------------------------
    cal = sign_in_as(browser, surveys, apps, "cal@college.example")
    answer = cal.goto(f"{surveys}/surveys/{survey_id}")
    assert answer.status == 404
    expect(cal.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(cal.get_by_text(TITLE)).to_have_count(0)
    axe.check(cal, "journey: not a sponsor, not found")
    cal.context.close()

    # -- the launch page: panel counts while the page waits, then each cell's shortfall -------
    strip = held_still(page)
    page.goto(f"{surveys}/surveys/{survey_id}")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/launch")
    expect(page.get_by_text("Panel is counting the members each quota cell")).to_be_visible()
    axe.check(page, "journey: launch, panel counting")
    page.unroute("**/launch", strip)
    page.reload()  # as the page itself does: its Refresh header is back
    pump()  # surveys' question goes to panel, its answer comes back
    cells = page.locator("#eligible-cells")
    cells.wait_for(timeout=15_000)  # the page reloaded itself: no click, no script
    expect(page.get_by_text("1 of 2 quota cells is short")).to_be_visible()
    assert "Age: 16 to 24 2 1 Short by 1" in " ".join(cells.inner_text().split())
    assert "Age: 65 to 74 2 4 None" in " ".join(cells.inner_text().split())
    alt = page.get_by_role("img", name="Members panel can invite now, against each cell's "
                                       "target: a bar chart of each quota cell.", exact=False)
    expect(alt).to_be_visible()
    axe.check(page, "journey: launch, pre-launch count")
    page.get_by_role("button", name="Launch the survey").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}")
    expect(page.get_by_text("Survey launched")).to_be_visible()
    axe.check(page, "journey: launched")
    pump()

    # -- fieldwork: one older member answers; the monitor's charts beside their tables ---------
    invited = invitations(apps["surveys"], survey_id)
    assert len(invited) == 3  # 1 young (all there were) and 2 older, as the count said
    older = next(i for i in invited if i.profile["age_band"] == "65-74")
    answered = clients["surveys"].post(f"/r/{older.token}",
                                       data={"after_dark": "yes", "safer": "Street lighting"})
    assert answered.status_code == 303
    page.get_by_role("button", name="Monitor fieldwork").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/fieldwork")
    charts = page.locator("img.console-chart")
    expect(charts.nth(3)).to_be_attached()
    for chart in charts.all():
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), \
            chart.get_attribute("src")
    expect(page.get_by_role("table").filter(has_text="Age: 16 to 24").nth(0)).to_be_attached()
    axe.check(page, "journey: fieldwork monitor")

    # -- top up: two more young members joined since ---------------------------------------
    join_panel(clients, keys, 5, 2, "16-24")
    page.get_by_role("button", name="Top up").click()
    expect(page.get_by_role("heading",
                            name="Top up the quota cells behind target?")).to_be_visible()
    axe.check(page, "journey: top up, confirm")
    page.get_by_role("button", name="Ask panel for more members").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}/fieldwork")
    expect(page.get_by_text("Panel was asked for")).to_be_visible()
    pump()
    assert len(invitations(apps["surveys"], survey_id)) > 3
    page.reload()
    axe.check(page, "journey: monitor after a top-up")

    # -- the co-sponsor follows fieldwork, with no Close -------------------------------------
    pat.goto(f"{surveys}/surveys/{survey_id}/fieldwork")
    expect(pat.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(pat.get_by_role("button", name="Close fieldwork")).to_have_count(0)
    axe.check(pat, "journey: co-sponsor's monitor")
    pat.context.close()

    # -- close, behind its confirmation page -------------------------------------------------
    page.get_by_role("button", name="Close fieldwork").click()
    expect(page.get_by_role("heading",
                            name="Are you sure you want to close fieldwork?")).to_be_visible()
    axe.check(page, "journey: close, confirm")
    page.get_by_role("button", name="Close fieldwork").click()
    page.wait_for_url(f"{surveys}/surveys/{survey_id}")
    expect(page.get_by_text("Fieldwork closed")).to_be_visible()
    expect(page.get_by_text("Closed", exact=True).first).to_be_visible()
    axe.check(page, "journey: closed")
