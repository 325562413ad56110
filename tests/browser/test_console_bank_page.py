"""An officer uses the question bank, the builder's Welsh texts and its removal confirmation in
a real browser, and a Welsh member reads the survey's Welsh title; each page passes axe-core
at desktop width and on a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console_sign_in import live_console  # noqa: F401 - a fixture
from tests.scenario import setup_agencies
from tests.staff import signed_in_browser
from tests.surveys.steps import drawn, invitations, launch, member

WELSH_TITLE = "Teimlo'n ddiogel yng nghanol y dref"


def test_an_officer_adds_to_the_bank_and_builds_with_welsh_texts(
        apps, clients, pump, live_console, page, axe):  # noqa: F811
    surveys = live_console["surveys"]
    setup_agencies(apps, pump)
    signed_in_browser(page, apps, surveys.url,
                      email="olu@council.example", agency="council", role="officer",
                      name="Olu Okafor")
    page.wait_for_url(f"{surveys.url}/surveys")

    page.get_by_role("link", name="Question bank").click()
    axe.check(page, "question bank, empty")
    page.get_by_role("link", name="Add a question to the bank").click()
    page.get_by_label("Question", exact=True).fill("Do you use the bus?")
    page.get_by_label("Question code").fill("Uses Bus")
    page.get_by_label("Yes or no").check()
    page.get_by_role("button", name="Add to the bank").click()
    summary = page.locator(".govuk-error-summary")
    assert "Question code: Use lower-case letters" in summary.inner_text()
    axe.check(page, "add to the bank, refused")
    summary.get_by_role("link").first.click()
    page.get_by_label("Question code").fill("uses_bus")
    page.get_by_role("button", name="Add to the bank").click()
    expect(page.get_by_text("uses_bus is in the question bank.")).to_be_visible()
    expect(page.locator("#bank-uses_bus").get_by_text("Riverside Council")).to_be_visible()

    page.goto(f"{surveys.url}/surveys/new")
    page.get_by_label("Title").fill("Buses in Riverside")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url("**/build")
    survey_id = page.url.rstrip("/").split("/")[-2]
    page.get_by_role("link", name="Questions").click()
    page.get_by_role("button", name="Add from the bank").click()
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("Question", exact=True).fill("Which route do you use most?")
    page.get_by_label("Question code").fill("route")
    page.get_by_label("Single choice (one option)").check()
    page.get_by_label("Options (single or multiple choice)").fill("Route 1\nRoute 2")
    page.get_by_label("“Do you use the bus?” is Yes").check()
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("is answered “Yes”")).to_be_visible()
    axe.check(page, "builder questions")
    page.get_by_role("link", name="Remove question 1").click()
    expect(page.get_by_text("It cannot be removed yet")).to_be_visible()
    axe.check(page, "remove a question, blocked")
    page.get_by_role("link", name="Return to the questions").click()
    page.get_by_role("link", name="Remove question 2").click()
    axe.check(page, "remove a question")
    page.get_by_role("button", name="Remove the question").click()
    expect(page.get_by_text("Which route do you use most?")).to_have_count(0)

    page.goto(f"{surveys.url}/surveys/{survey_id}/build/languages")
    page.get_by_label("Welsh (Cymraeg)").check()
    page.get_by_label("Summary in Welsh").fill("Dywedwch wrthym sut rydych chi'n teithio.")
    page.get_by_role("button", name="Save and return").click()
    assert "Title in Welsh: Missing data" in page.locator(".govuk-error-summary").inner_text()
    axe.check(page, "builder languages, refused")
    page.get_by_label("Title in Welsh").fill("Bysiau yng Nglan yr Afon")
    page.get_by_role("button", name="Save and return").click()
    page.wait_for_url(f"{surveys.url}/surveys/{survey_id}/build")

    page.goto(f"{surveys.url}/question-bank")
    expect(page.locator("#bank-uses_bus").get_by_role("link",
                                                      name="Buses in Riverside")).to_be_visible()
    axe.check(page, "question bank")


def test_a_welsh_member_reads_the_survey_title_in_welsh(
        apps, clients, pump, live_console, page, axe):  # noqa: F811
    survey_id, _, _ = launch(apps, clients, pump, languages=["en", "cy"], translations={
        "cy": {"title": WELSH_TITLE, "summary": "Helpwch y bartneriaeth i benderfynu."}})
    drawn(pump, survey_id, [member(language="cy")])
    [invitation] = invitations(apps["surveys"], survey_id)
    page.goto(f"{live_console['surveys'].url}/r/{invitation.token}")
    assert page.get_by_role("heading", level=1).inner_text() == WELSH_TITLE
    assert page.title().startswith(WELSH_TITLE)
    axe.check(page, "respond in Welsh")
