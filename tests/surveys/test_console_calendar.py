"""The partnership calendar: every agency's surveys by month, for every member of staff, with
areas by name, topics and overlaps marked; never results."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import update

from services.panel.jobs import publish_contact_cap_counts
from services.panel.models import Member
from services.surveys.models import Survey
from shared.bus import utcnow
from shared.db import new_session
from tests.panel.factories import make_members
from tests.panel.test_targets import upload_targets
from tests.scenario import ROLES, accept_invitations, bearer, survey_payload
from tests.staff import add_staff, sign_in

TODAY = date.today()


def days(start: int, end: int) -> dict:
    return {"start": (TODAY + timedelta(days=start)).isoformat(),
            "end": (TODAY + timedelta(days=end)).isoformat()}


def draft(clients, keys, agency: str, title: str, sponsors=None, **changes) -> int:
    sponsors = sponsors or ((agency, "100.00"),)
    created = clients["surveys"].post("/api/v1/surveys", headers=bearer(keys[agency]["officer"]),
                                      json=survey_payload(sponsors=sponsors, title=title,
                                                          **changes))
    assert created.status_code == 201, created.json
    accept_invitations(clients["surveys"], keys, created.json)
    return created.json["id"]


def launch(clients, keys, agency: str, survey_id: int) -> None:
    launched = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch",
                                       headers=bearer(keys[agency]["officer"]))
    assert launched.status_code == 202, launched.json


def partnership_surveys(apps, clients, pump) -> dict[str, int]:
    keys, _ = upload_targets(apps, clients, pump)  # the census names the wards
    pump()
    ids = {
        "safety": draft(clients, keys, "council", "Feeling safe in the town centre",
                        sponsors=(("council", "60.00"), ("police", "40.00")),
                        areas=["E05001001", "E05001002"], topics=["community safety"],
                        fieldwork=days(0, 14)),
        "gp": draft(clients, keys, "health", "Getting a GP appointment",
                    areas=["E05001002"], topics=["GP access"], fieldwork=days(3, 20)),
        "courses": draft(clients, keys, "college", "Evening courses"),
        "bins": draft(clients, keys, "council", "Bin collections", areas=["E05001003"],
                      topics=["waste"], fieldwork=days(0, 7)),
        "old": draft(clients, keys, "police", "Neighbourhood policing priorities",
                     areas=["E05001002"], fieldwork=days(0, 7)),
    }
    launch(clients, keys, "council", ids["safety"])
    for survey in ("bins", "old"):
        agency = "council" if survey == "bins" else "police"
        launch(clients, keys, agency, ids[survey])
        closed = clients["surveys"].post(f"/api/v1/surveys/{ids[survey]}/close",
                                         headers=bearer(keys[agency]["officer"]))
        assert closed.status_code == 200, closed.json
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        old = session.get(Survey, ids["old"])  # closed long ago: off the calendar
        old.closed_at = utcnow() - timedelta(days=91)
        session.commit()
    return ids


def card(html: str, survey_id: int) -> str:
    """The text of one survey's summary card, tags stripped, spaces squeezed."""
    found = re.search(rf'<div class="govuk-summary-card" id="survey-{survey_id}">(.*?)</dl>',
                      html, re.S)
    assert found, f"no card for survey {survey_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def long_day(value: date) -> str:
    return f"{value.day} {value.strftime('%B %Y')}"


def test_every_role_of_every_agency_sees_all_agencies_surveys_with_overlaps_marked(
        apps, clients, pump):
    ids = partnership_surveys(apps, clients, pump)
    for role in ROLES:
        email = f"{role}@college.example"
        add_staff(apps, email=email, agency="college", role=role)
        sign_in(apps, clients, email)
        page = clients["surveys"].get("/calendar")
        assert page.status_code == 200, role
        assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    month = TODAY.strftime("%B %Y")
    assert f"<h2 class=\"govuk-heading-m\">{month}</h2>" in html

    safety = card(html, ids["safety"])
    assert "In fieldwork" in safety and "Overlaps" in safety
    assert "Riverside Council (lead), Riverside Police" in safety
    assert f"{long_day(TODAY)} to {long_day(TODAY + timedelta(days=14))}" in safety
    assert "Riverside Central, Old Town" in safety and "E05001001" not in safety
    assert "community safety" in safety
    assert "Getting a GP appointment (Riverside Health), in Old Town" in safety

    gp = card(html, ids["gp"])
    assert "Draft" in gp and "Feeling safe in the town centre (Riverside Council), in Old Town" \
        in gp
    bins = card(html, ids["bins"])  # closed today, in another ward: no overlap
    assert "Closed" in bins and "Overlaps" not in bins
    assert f"{long_day(TODAY)} to {long_day(TODAY)}" in bins  # it ended when it closed
    courses = card(html, ids["courses"])
    assert "Not dated yet" in courses and "The whole partnership area" in courses
    assert html.index("Drafts with no fieldwork dates yet") < html.index(
        f'id="survey-{ids["courses"]}"')
    assert "Neighbourhood policing priorities" not in html  # closed 91 days ago

    # The timeline: a row per dated survey, marked in the weeks its fieldwork touches.
    rows = re.findall(r'<tr class="govuk-table__row">\s*<th scope="row".*?</tr>', html, re.S)
    assert len(rows) == 3 and "Fieldwork" in rows[0]
    # What the partnership shares, never what a survey asks nor what was answered.
    assert "How safe do you feel after dark?" not in html
    assert "respon" not in html.lower() and "complete" not in html.lower()


def test_months_are_paged_by_links_and_a_month_with_nothing_says_so(apps, clients, pump):
    partnership_surveys(apps, clients, pump)
    add_staff(apps, email="ana@police.example", agency="police", role="analyst")
    sign_in(apps, clients, "ana@police.example")
    html = clients["surveys"].get("/calendar?month=2099-01").get_data(as_text=True)
    assert "No agency has a survey in fieldwork in January 2099." in html
    assert 'href="/calendar?month=2098-12" rel="prev"' in html
    assert 'href="/calendar?month=2099-02" rel="next"' in html
    assert "Evening courses" in html  # undated drafts show in every month
    assert "Feeling safe in the town centre" not in html

    for bad in ("2099-13", "99-01", "2099-1", "x"):
        missing = clients["surveys"].get(f"/calendar?month={bad}")
        assert missing.status_code == 404 and b"Page not found" in missing.data


def test_the_calendar_is_for_signed_in_staff_only(apps, clients):
    answer = clients["surveys"].get("/calendar")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://surveys.test/sign-in?next=")


def rest_members(panel_app, refs: list[str], until: datetime) -> None:
    with panel_app.app_context(), new_session() as session:
        session.execute(update(Member).where(Member.member_ref.in_(refs))
                        .values(cap_free_at=until, last_contacted_at=utcnow()))
        session.commit()


def publish_counts(panel_app, now: datetime) -> None:
    """Panel's periodic job, as its scheduler runs it."""
    with panel_app.app_context():
        publish_contact_cap_counts(now)


def test_the_calendar_shows_where_the_panel_rests_under_the_contact_cap(apps, clients, pump):
    upload_targets(apps, clients, pump)
    now = utcnow()
    central = make_members(apps["panel"], 10, area="E05001001")
    make_members(apps["panel"], 4, start=10, area="E05001002")
    rest_members(apps["panel"], central[:2], now + timedelta(days=5))
    rest_members(apps["panel"], central[2:3], now + timedelta(days=40))
    with apps["panel"].app_context(), new_session() as session:  # stopped every message
        session.execute(update(Member).where(Member.member_ref == central[9])
                        .values(opted_out_at=now))
        session.commit()
    add_staff(apps, email="olu@health.example", agency="health", role="officer")
    sign_in(apps, clients, "olu@health.example")
    before = clients["surveys"].get("/calendar").get_data(as_text=True)
    assert "Panel has not yet counted who is resting under the contact cap." in before

    publish_counts(apps["panel"], now)
    pump()
    html = clients["surveys"].get("/calendar").get_data(as_text=True)
    rows = {cells[0]: cells[1:] for cells in (
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in
         re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>",
                              html.split("Where the panel is resting")[1], re.S)[1:])}
    assert rows["Riverside Central"] == [
        "9", "3", f"First on {long_day((now + timedelta(days=5)).date())}, "
                  f"all by {long_day((now + timedelta(days=40)).date())}"]
    assert rows["Old Town"] == ["4", "0", "Nobody is resting"]
    assert list(rows) == sorted(rows)  # by name
    assert "E05001001" not in html

    # A count taken earlier but arriving later changes nothing.
    rest_members(apps["panel"], central[:9], now + timedelta(days=60))
    publish_counts(apps["panel"], now - timedelta(minutes=15))
    pump()
    again = clients["surveys"].get("/calendar").get_data(as_text=True)
    assert "First on" in again and f"All on {long_day((now + timedelta(days=60)).date())}" \
        not in again
    publish_counts(apps["panel"], now + timedelta(minutes=15))
    pump()
    latest = clients["surveys"].get("/calendar").get_data(as_text=True)
    assert f"All on {long_day((now + timedelta(days=60)).date())}" in latest
