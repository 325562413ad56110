"""An officer's survey in the console from its draft to its close: the overview, preview, the
launch checklist and launch, the fieldwork monitor with its charts, top-up, reminders and
close behind confirmation pages, and joint working between agencies."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.surveys.models import AuditLog, JoinRequest, Survey
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload
from tests.staff import add_staff, sign_in
from tests.surveys.steps import invitations, sent

OFFICER = "olu@council.example"


def draft(clients, keys, agency: str = "council", **changes) -> int:
    created = clients["surveys"].post("/api/v1/surveys", headers=bearer(keys[agency]["officer"]),
                                      json=survey_payload(**changes))
    assert created.status_code == 201, created.json
    return created.json["id"]


def launched(clients, keys, **changes) -> int:
    survey_id = draft(clients, keys, **changes)
    answer = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch",
                                     headers=bearer(keys["council"]["officer"]))
    assert answer.status_code == 202, answer.json
    return survey_id


def as_staff(apps, clients, email: str = OFFICER, agency: str = "council",
             role: str = "officer") -> None:
    add_staff(apps, email=email, agency=agency, role=role)
    sign_in(apps, clients, email)


def text(page) -> str:
    """The page's words, as a person reads them (tags dropped, spaces collapsed)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())


def survey_status(apps, survey_id: int) -> str:
    with apps["surveys"].app_context(), new_session() as session:
        return session.get(Survey, survey_id).status


def audit_actions(apps) -> list[tuple[str, str, list]]:
    with apps["surveys"].app_context(), new_session() as session:
        return [(a.action, a.actor, a.survey_ids) for a in session.scalars(
            select(AuditLog).where(AuditLog.action != "sign_in").order_by(AuditLog.id))]


# -- overview, launch, close -------------------------------------------------------------


def test_the_overview_names_sponsors_and_offers_the_next_steps(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys, sponsors=[("council", "60.00"), ("police", "40.00")],
                      areas=["E05001001"], topics=["community safety"])
    as_staff(apps, clients)
    page = clients["surveys"].get(f"/surveys/{survey_id}")
    assert page.status_code == 200
    words = text(page)
    assert "Feeling safe in the town centre" in words and "Draft" in words
    assert "Riverside Council (lead), 60% of the cost" in words
    assert "Riverside Police: invited at 40%, not yet answered" in words
    assert f'href="/surveys/{survey_id}/launch"' in page.get_data(as_text=True)
    assert f'href="/surveys/{survey_id}/preview"' in page.get_data(as_text=True)


def test_the_launch_checklist_names_what_the_purpose_gate_still_needs(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys, decision=None, sponsors=[("council", "70.00"),
                                                              ("police", "30.00")])
    as_staff(apps, clients)
    page = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert page.status_code == 200
    words = text(page)
    assert "It names the decision it informs, its owner and a due date still to come" \
        " Name the decision it informs, its owner and when it is due. Not done" in words
    assert "Riverside Police has not yet accepted or declined the invitation" in words
    assert "It says what the survey is for Done" in words
    assert f'href="/surveys/{survey_id}/edit#decision"' in page.get_data(as_text=True)
    assert "Launch the survey" not in words

    # Posted anyway, the launch is refused with the gate's reasons and nothing changes.
    refused = clients["surveys"].post(f"/surveys/{survey_id}/launch")
    assert refused.status_code == 422 and "There is a problem" in text(refused)
    assert 'href="#decision"' in refused.get_data(as_text=True)
    assert survey_status(apps, survey_id) == "draft"


def test_launching_from_the_page_puts_the_survey_in_fieldwork_and_invites_the_sample(
        apps, clients, pump, smtp_server):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], 3)
    survey_id = draft(clients, keys, sample_size=3)
    as_staff(apps, clients)
    checklist = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert "Launch the survey" in text(checklist) and "Not done" not in text(checklist)

    done = clients["surveys"].post(f"/surveys/{survey_id}/launch")
    assert done.status_code == 303 and done.headers["Location"] == f"/surveys/{survey_id}"
    pump()
    assert survey_status(apps, survey_id) == "fieldwork"
    assert len(invitations(apps["surveys"], survey_id)) == 3
    assert sorted(m["To"] for m in smtp_server.messages
                  if "Have your say" in m["Subject"]) == [
        f"person{i}@example.org" for i in range(3)]
    assert audit_actions(apps) == [("launch", OFFICER, [survey_id])]
    overview = clients["surveys"].get(f"/surveys/{survey_id}")
    assert "Survey launched" in text(overview) and "In fieldwork" in text(overview)
    assert f'href="/surveys/{survey_id}/fieldwork"' in overview.get_data(as_text=True)


def test_a_co_sponsor_sees_the_survey_but_cannot_launch_or_close_it(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys, sponsors=[("council", "50.00"), ("police", "50.00")])
    accepted = clients["surveys"].post(
        f"/api/v1/surveys/invitations/{invitation_id(apps, survey_id, 'police')}/answer",
        headers=bearer(keys["police"]["officer"]), json={"accept": True})
    assert accepted.status_code == 200
    as_staff(apps, clients, "pat@police.example", "police")
    page = clients["surveys"].get(f"/surveys/{survey_id}")
    assert page.status_code == 200
    assert "Only the lead agency, Riverside Council, launches and closes" in text(page)
    assert f"/surveys/{survey_id}/launch" not in page.get_data(as_text=True)
    for path in (f"/surveys/{survey_id}/launch", f"/surveys/{survey_id}/close"):
        for refused in (clients["surveys"].get(path), clients["surveys"].post(path)):
            assert refused.status_code == 403
            assert "Only the lead agency, Riverside Council" in text(refused)
    assert survey_status(apps, survey_id) == "draft"


def test_an_agency_not_sponsoring_the_survey_gets_the_not_found_page(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys)
    as_staff(apps, clients, "cal@college.example", "college")
    for path in ("", "/launch", "/preview", "/preview/sms", "/close", "/fieldwork"):
        page = clients["surveys"].get(f"/surveys/{survey_id}{path}")
        assert page.status_code == 404 and "Page not found" in text(page), path
        assert "Feeling safe" not in text(page)


def test_an_analyst_sees_the_overview_without_the_buttons_that_write(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys)
    as_staff(apps, clients, "ana@council.example", role="analyst")
    page = clients["surveys"].get(f"/surveys/{survey_id}")
    assert page.status_code == 200 and "/launch" not in page.get_data(as_text=True)
    assert clients["surveys"].get(f"/surveys/{survey_id}/launch").status_code == 403


def test_closing_goes_through_a_confirmation_page_and_is_audit_logged(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = launched(clients, keys)
    as_staff(apps, clients)
    confirm = clients["surveys"].get(f"/surveys/{survey_id}/close")
    assert confirm.status_code == 200
    assert "Are you sure you want to close fieldwork?" in text(confirm)
    assert survey_status(apps, survey_id) == "fieldwork"  # a look changes nothing
    done = clients["surveys"].post(f"/surveys/{survey_id}/close")
    assert done.status_code == 303
    assert survey_status(apps, survey_id) == "closed"
    assert len(sent(apps["surveys"], "feedback.survey_closed")) == 1
    assert audit_actions(apps) == [("close", OFFICER, [survey_id])]
    again = clients["surveys"].get(f"/surveys/{survey_id}/close")
    assert "Only a survey in fieldwork can close; this one is closed" in text(again)


def invitation_id(apps, survey_id: int, agency: str) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(JoinRequest.id).where(
            JoinRequest.survey_id == survey_id, JoinRequest.agency == agency))
