"""A citizen joins through the join page in a real browser with JavaScript switched off."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from services.panel.models import Member
from shared.db import new_session
from tests.panel.test_joining import CONFIRM


def test_citizen_joins_without_javascript_after_fixing_mistakes(apps, pump, live_panel,
                                                                no_js_page, smtp_server, axe):
    page = no_js_page
    page.goto(f"{live_panel.url}/join")
    assert page.locator("h1").inner_text() == "Join the citizens' panel"
    axe.check(page, "join")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Email address (if you chose email)").fill("not an email")
    page.get_by_role("button", name="Join the panel").click()

    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.title().startswith("Error:")
    assert "correct format" in page.locator("#email-error").inner_text()
    assert page.get_by_label("Email", exact=True).is_checked()  # answers kept
    axe.check(page, "join, with errors")

    page.get_by_label("Email address (if you chose email)").fill("river.reader@example.org")
    page.get_by_label("16 to 24").check()
    page.get_by_label("Female").check()
    page.get_by_label("Mixed or Multiple ethnic groups").check()
    page.get_by_label("Not disabled").check()
    page.get_by_label("Your ward").fill("E05001007")
    page.get_by_label("Invite me to surveys").check()
    page.get_by_role("button", name="Join the panel").click()
    expect(page.get_by_role("heading", name="Nearly done")).to_be_visible()
    axe.check(page, "join, nearly done")

    pump()
    link = CONFIRM.search(smtp_server.messages[-1].get_content()).group(1)
    page.goto(live_panel.url + link)
    axe.check(page, "join, confirm")
    page.get_by_role("button", name="Confirm and join").click()
    expect(page.get_by_role("heading", name="You are on the panel")).to_be_visible()
    axe.check(page, "join, joined")
    with apps["panel"].app_context(), new_session() as session:
        joined = session.scalars(select(Member)).one()
    assert (joined.status, joined.age_band, joined.ethnicity, joined.area) == (
        "active", "16-24", "mixed", "E05001007")
    assert re.fullmatch(r"[0-9a-f-]{36}", joined.member_ref)
