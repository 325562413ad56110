"""An officer's survey in the console from its draft to its close: the overview, preview, the
launch checklist and launch, the fieldwork monitor with its charts, top-up, reminders and
close behind confirmation pages, and joint working between agencies."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from services.surveys.models import (
    AuditLog,
    Invitation,
    JoinRequest,
    Response,
    SavedAnswer,
    Survey,
)
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload
from tests.staff import add_staff, sign_in
from tests.surveys.steps import delivered, drawn, invitations, member, sent

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
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))).split())


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
    fix_link = f'href="/surveys/{survey_id}/build/details#decision-description"'
    assert fix_link in page.get_data(as_text=True)
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
    launch, *rest = audit_actions(apps)
    # Launched through the API: logged too, under the key's prefix rather than a person.
    assert launch[0] == "launch" and launch[1] != OFFICER and launch[2] == [survey_id]
    assert rest == [("close", OFFICER, [survey_id])]
    again = clients["surveys"].get(f"/surveys/{survey_id}/close")
    assert "Only a survey in fieldwork can close; this one is closed" in text(again)


def invitation_id(apps, survey_id: int, agency: str) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(JoinRequest.id).where(
            JoinRequest.survey_id == survey_id, JoinRequest.agency == agency))


# -- the fieldwork monitor -------------------------------------------------------------

YOUNG, OLD = {"age_band": "16-24"}, {"age_band": "65-74"}
QUOTAS = [{"cell": YOUNG, "target": 2}, {"cell": OLD, "target": 2}]


def answer(clients, invitation) -> None:
    sent_answers = {"feel_safe": "4", "priority": "Street lighting"}
    assert clients["surveys"].post(f"/r/{invitation.token}", data=sent_answers).status_code == 303


def in_fieldwork(apps, clients, pump) -> int:
    """A launched survey with quota cells: two older members answered, two younger did not."""
    keys = setup_agencies(apps, pump)
    survey_id = launched(clients, keys, quotas=QUOTAS, target_completes=4)
    drawn(pump, survey_id, [member(**YOUNG, deprivation_decile=10),
                            member("sms", **YOUNG, deprivation_decile=2),
                            member(**OLD, deprivation_decile=2),
                            member(**OLD, deprivation_decile=1)])
    for invitation in invitations(apps["surveys"], survey_id):
        if invitation.profile["age_band"] == "65-74":
            answer(clients, invitation)
    return survey_id


def test_the_monitor_shows_each_chart_beside_its_table_in_natural_order(apps, clients, pump):
    survey_id = in_fieldwork(apps, clients, pump)
    as_staff(apps, clients)
    page = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork")
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), text(page)
    for name in ("completes", "cells", "channels", "group-age_band", "group-deprivation_decile"):
        assert f'src="/surveys/{survey_id}/fieldwork/{name}.svg"' in html, name
    assert "Completed responses per day" in words and "Completed so far" in words
    assert "Age: 16 to 24 2 2 0 0%" in words and "Age: 65 to 74 2 2 2 100% (full)" in words
    assert "Email 3 2 67%" in words and "Text message (SMS) 1 0 0%" in words
    deciles = [words.index(f"Decile {d}") for d in ("1 (most deprived)", "2 ", "10 (least")]
    assert deciles == sorted(deciles)  # 1, 2, 10: not text order
    assert "deprivation_decile" not in words and "16-24" not in words  # names, not codes

    chart = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork/group-deprivation_decile.svg")
    assert chart.status_code == 200 and chart.content_type.startswith("image/svg+xml")
    svg = chart.get_data(as_text=True)
    assert svg.startswith("<svg") and "<script" not in svg and "<?xml" not in svg
    assert "<title>Response rate by deprivation decile</title>" in svg
    heights = [float(re.search(rf'y="([\d.]+)"[^>]*>{re.escape(label)}<', svg).group(1))
               for label in ("Decile 1 (most deprived)", "Decile 2", "Decile 10 (least deprived)")]
    assert heights == sorted(heights)  # drawn top to bottom in the table's order
    assert "50%" in svg  # each bar's figure is written on it, not told by colour
    cells = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork/cells.svg").get_data(
        as_text=True)
    assert "target 2" in cells and "2 completed" in cells
    assert clients["surveys"].get(
        f"/surveys/{survey_id}/fieldwork/nothing.svg").status_code == 404


def test_a_chart_with_nothing_to_draw_yet_is_not_found_rather_than_a_server_error(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys)
    as_staff(apps, clients)
    assert 'fieldwork/completes.svg"' not in clients["surveys"].get(
        f"/surveys/{survey_id}/fieldwork").get_data(as_text=True)
    chart = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork/completes.svg")
    assert chart.status_code == 404


def test_top_up_goes_through_a_confirmation_page(apps, clients, pump):
    survey_id = in_fieldwork(apps, clients, pump)
    as_staff(apps, clients)
    monitor_page = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork")
    assert f'href="/surveys/{survey_id}/top-up"' in monitor_page.get_data(as_text=True)
    confirm = clients["surveys"].get(f"/surveys/{survey_id}/top-up")
    assert "Top up the quota cells behind target?" in text(confirm)
    assert [d["draw_id"] for d in sent(apps["surveys"], "panel.draw_sample")] == ["launch"]
    done = clients["surveys"].post(f"/surveys/{survey_id}/top-up")
    assert done.status_code == 303
    [top_up] = sent(apps["surveys"], "panel.draw_sample")[1:]
    assert top_up["draw_id"] == "topup:1" and [q["cell"] for q in top_up["quotas"]] == [YOUNG]
    after = clients["surveys"].get(done.headers["Location"])
    assert f"Panel was asked for {top_up['size']} more members" in text(after)
    assert "Top-ups 1" in text(after)


def test_reminders_now_go_to_those_who_have_not_answered_after_a_confirmation(
        apps, clients, pump):
    survey_id = in_fieldwork(apps, clients, pump)
    waiting = {i.member_ref for i in invitations(apps["surveys"], survey_id)
               if i.profile["age_band"] == "16-24"}
    as_staff(apps, clients)
    confirm = clients["surveys"].get(f"/surveys/{survey_id}/reminders")
    assert "2 of the 4 members invited have not answered yet" in text(confirm)
    assert delivered(apps["surveys"], "reminder") == []
    done = clients["surveys"].post(f"/surveys/{survey_id}/reminders")
    assert {r["member_ref"] for r in delivered(apps["surveys"], "reminder")} == waiting
    assert "A reminder is on its way to 2 members" in text(
        clients["surveys"].get(done.headers["Location"]))
    # Again: one more reminder each, not a repeat of the same one.
    clients["surveys"].post(f"/surveys/{survey_id}/reminders")
    assert len({r["delivery_ref"] for r in delivered(apps["surveys"], "reminder")}) == 4


def test_the_monitor_offers_a_co_sponsor_no_close_and_an_analyst_no_actions(apps, clients, pump):
    survey_id = in_fieldwork(apps, clients, pump)
    as_staff(apps, clients, "ana@council.example", role="analyst")
    html = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork").get_data(as_text=True)
    assert "/top-up" not in html and "/reminders" not in html and "/close" not in html
    assert clients["surveys"].get(f"/surveys/{survey_id}/top-up").status_code == 403


# -- preview ---------------------------------------------------------------------------

WELSH = {"cy": {"text": "Pa mor ddiogel ydych chi'n teimlo ar ôl iddi dywyllu?",
                "labels": ["Anniogel iawn", "Eithaf anniogel", "Y naill na'r llall",
                           "Eithaf diogel", "Diogel iawn"]}}


def saved_anything(apps) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return sum(session.query(model).count()
                   for model in (Invitation, Response, SavedAnswer))


def test_the_preview_shows_the_questions_as_a_citizen_sees_them_and_saves_nothing(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = survey_payload(languages=["en", "cy"])
    payload["questions"][0]["translations"] = WELSH
    payload["questions"][2]["show_if"] = {"question": "priority", "in": ["Police patrols"]}
    survey_id = draft(clients, keys, **{k: v for k, v in payload.items()
                                        if k in ("languages", "questions")})
    as_staff(apps, clients)
    page = clients["surveys"].get(f"/surveys/{survey_id}/preview")
    assert page.status_code == 200
    words = text(page)
    assert "Preview This is the survey as members will see it on the web." in words
    assert "Nothing you enter here is saved" in words
    assert "How safe do you feel after dark?" in words and "5 – Very safe" in words
    assert "Street lighting" in words and "Anything else? (optional)" in words
    assert "Answer this only if you answered “Police patrols”" in words
    assert "Send my answers" in words and "Riverside Council" in words
    welsh = clients["surveys"].get(f"/surveys/{survey_id}/preview?lang=cy")
    assert "Pa mor ddiogel ydych chi'n teimlo ar ôl iddi dywyllu?" in text(welsh)

    missing = clients["surveys"].post(f"/surveys/{survey_id}/preview", data={"feel_safe": "4"})
    assert missing.status_code == 422 and "There is a problem" in text(missing)
    sent_answers = {"feel_safe": "4", "priority": "Street lighting"}
    fine = clients["surveys"].post(f"/surveys/{survey_id}/preview", data=sent_answers)
    assert fine.status_code == 200 and "These answers would be accepted" in text(fine)
    assert saved_anything(apps) == 0 and survey_status(apps, survey_id) == "draft"


def test_the_sms_preview_is_the_dialogue_as_a_transcript(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys, channels=["web", "sms_dialogue"])
    as_staff(apps, clients)
    page = clients["surveys"].get(f"/surveys/{survey_id}/preview/sms")
    assert page.status_code == 200
    words = text(page)
    assert ("Q1/3: How safe do you feel after dark? Reply with a number from 1 to 5. "
            "(1 Very unsafe, 5 Very safe)") in words
    assert ("Q2/3: What should we spend most on? Reply 1 Street lighting, 2 Police patrols, "
            "3 Welfare services.") in words
    assert "Q3/3: Anything else? Reply with your answer. Reply SKIP to skip it." in words
    assert "Member replies 5" in words
    assert words.index("Q1/3") < words.index("Q2/3") < words.index("Thank you, your answers")


def test_send_me_a_test_emails_the_invitation_to_the_officer(apps, clients, pump, smtp_server):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys)
    as_staff(apps, clients)
    done = clients["surveys"].post(f"/surveys/{survey_id}/preview/test")
    assert done.status_code == 303
    assert f"on its way to {OFFICER}" in text(clients["surveys"].get(done.headers["Location"]))
    pump()
    [mail] = [m for m in smtp_server.messages if "Have your say" in m["Subject"]]
    assert mail["To"] == OFFICER
    assert mail["Subject"] == "Test: Have your say: Feeling safe in the town centre"
    body = mail.get_payload(decode=True).decode()
    assert "This is a test, sent to you alone" in body
    assert "Riverside Council and partners are asking the panel about" in body
    assert f"http://surveys.test/surveys/{survey_id}/preview" in body
    assert saved_anything(apps) == 0


# -- joint working ---------------------------------------------------------------------

SAFETY = {"areas": ["E05001001"], "topics": ["community safety"]}


def test_an_overlap_is_warned_of_and_asking_to_join_reaches_the_lead_who_approves(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    council_survey = draft(clients, keys, **SAFETY)
    police_survey = draft(clients, keys, "police", sponsors=[("police", "100.00")], **SAFETY)
    as_staff(apps, clients, "pat@police.example", "police")
    page = clients["surveys"].get(f"/surveys/{police_survey}")
    words = text(page)
    assert "1 other survey asks the same wards about the same topics" in words
    assert "Overlaps with: Feeling safe in the town centre Led by Riverside Council" in words
    assert "Ask to join instead" in words
    asked = clients["surveys"].post(f"/surveys/{council_survey}/join-requests", data={
        "message": "We are asking the same; let us ask once.", "from_survey": police_survey})
    assert asked.status_code == 303 and asked.headers["Location"] == f"/surveys/{police_survey}"
    own_page = clients["surveys"].get(f"/surveys/{police_survey}")
    assert "Your request to join was sent" in text(own_page)

    as_staff(apps, clients)
    lead_page = clients["surveys"].get(f"/surveys/{council_survey}")
    assert "Riverside Police asks to co-sponsor" in text(lead_page)
    request_id = invitation_id(apps, council_survey, "police")
    decision = clients["surveys"].get(f"/surveys/{council_survey}/join-requests/{request_id}")
    assert "We are asking the same; let us ask once." in text(decision)
    wrong = clients["surveys"].post(f"/surveys/{council_survey}/join-requests/{request_id}",
                                    data={"decision": "approve", "share-council": "80",
                                          "share-police": "30"})
    assert wrong.status_code == 422
    assert "Cost shares must add up to 100; they add up to 110" in text(wrong)
    approved = clients["surveys"].post(f"/surveys/{council_survey}/join-requests/{request_id}",
                                       data={"decision": "approve", "share-council": "70",
                                             "share-police": "30"})
    assert approved.status_code == 303
    after = text(clients["surveys"].get(f"/surveys/{council_survey}"))
    assert "Request approved" in after and "Riverside Police, 30% of the cost" in after


def test_an_invited_agency_accepts_or_declines_on_its_invitations_page(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    survey_id = draft(clients, keys, sponsors=[("council", "50.00"), ("police", "30.00"),
                                               ("health", "20.00")])
    as_staff(apps, clients, "pat@police.example", "police")
    page = clients["surveys"].get("/surveys/invitations")
    words = text(page)
    assert "Feeling safe in the town centre Led by Riverside Council" in words
    assert "Your share of the cost 30%" in words and "Not answered yet" in words
    assert clients["surveys"].get(f"/surveys/{survey_id}").status_code == 404  # not yet
    accepted = clients["surveys"].post(
        f"/surveys/invitations/{invitation_id(apps, survey_id, 'police')}",
        data={"answer": "accept"})
    assert accepted.status_code == 303
    assert "your agency now co-sponsors Feeling safe" in text(
        clients["surveys"].get("/surveys/invitations"))
    assert clients["surveys"].get(f"/surveys/{survey_id}").status_code == 200

    as_staff(apps, clients, "hal@health.example", "health")
    clients["surveys"].post(f"/surveys/invitations/{invitation_id(apps, survey_id, 'health')}",
                            data={"answer": "decline"})
    as_staff(apps, clients)
    words = text(clients["surveys"].get(f"/surveys/{survey_id}"))
    assert "Riverside Council (lead), 70% of the cost" in words
    assert "Riverside Police, 30% of the cost" in words and "Riverside Health" not in words
    assert "Not done" not in text(clients["surveys"].get(f"/surveys/{survey_id}/launch"))
