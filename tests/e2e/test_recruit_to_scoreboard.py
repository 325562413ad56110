"""From recruitment to the scoreboard, across the three services through their HTTP surfaces,
panel's SMS webhook and real RQ workers: recruit on the web and by SMS, a joint survey of
three agencies answered by web and SMS dialogue, close, publish, every respondent told once
on their own channel, and the agencies' scoreboard updated."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.panel.models import Delivery
from shared.db import new_session
from tests.scenario import accept_invitations, add_members, bearer, setup_agencies, survey_payload

WARD = "E05001001"
INBOUND = "http://panel.test/sms/inbound"
CONFIRM = re.compile(r"http://panel\.test(/join/confirm/[A-Za-z0-9_.-]+)")
SURVEY_LINK = re.compile(r"http://surveys\.test(/r/[A-Za-z0-9_-]+)")
MEMBER_PAGE = re.compile(r"http://feedback\.test(/you/[0-9a-f]{32}\.[A-Za-z0-9_-]+)")
WEB_RECRUITS = [f"young{i}@example.org" for i in range(3)]
SMS_RECRUITS = ["+447700900701", "+447700900702"]
TARGETS = ("vintage,area,dimension,category,population\n"
           f"Census 2021,{WARD},age_band,16-24,3000\n"
           f"Census 2021,{WARD},age_band,25-34,2000\n")


def text_panel(clients, sms_gateway, phone: str, body: str) -> str:
    """An SMS from `phone` reaching panel's webhook, signed as the gateway signs it."""
    form = {"MessageSid": "SM" + str(abs(hash((phone, body)))).zfill(32)[:32],
            "AccountSid": sms_gateway.account_sid, "From": phone, "To": "+447700900999",
            "Body": body, "NumMedia": "0"}
    response = clients["panel"].post("/sms/inbound", data=form, headers={
        "X-Twilio-Signature": sms_gateway.signature(INBOUND, form)})
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def texts_to(sms_gateway, phone: str) -> list[str]:
    return [m["body"] for m in sms_gateway.messages if m["to"] == phone]


def mail_to(smtp_server, address: str, subject_part: str) -> list:
    return [m for m in smtp_server.messages
            if m["To"] == address and subject_part in m["Subject"]]


def recruit(clients, pump, smtp_server, sms_gateway, manager: dict) -> dict:
    """A campaign aimed at young people; three join on the web page, two by texting JOIN."""
    campaign = clients["panel"].post("/api/v1/campaigns", headers=manager, json={
        "name": "Young voices", "code": "YOUNG", "target_group": {"age_band": ["16-24"]}})
    assert campaign.status_code == 201, campaign.json
    for email in WEB_RECRUITS:
        joined = clients["panel"].post("/join?c=YOUNG", data={
            "preferred_channel": "email", "email": email, "age_band": "16-24",
            "gender": "female", "ethnicity": "asian", "disability": "not_disabled",
            "area": WARD, "consent_surveys": "yes", "consent_outcomes": "yes"})
        assert joined.status_code == 303, joined.data
    pump()
    for email in WEB_RECRUITS:
        (mail,) = [m for m in smtp_server.messages if m["To"] == email]
        link = CONFIRM.search(mail.get_content()).group(1)
        assert b"You are on the panel" in clients["panel"].post(link).data
    for phone in SMS_RECRUITS:
        replies = [text_panel(clients, sms_gateway, phone, body)
                   for body in ("JOIN YOUNG", "19", "M", "B", "N", WARD, "YES")]
        assert "you are on the panel" in replies[-1]
    report = clients["panel"].get(f"/api/v1/campaigns/{campaign.json['id']}/report",
                                  headers=manager).json
    assert report["recruits"] == 5 and report["recruits_in_target_group"] == 5
    return campaign.json


def scoreboard(clients) -> dict[str, dict]:
    return {row["agency"]: row
            for row in clients["feedback"].get("/api/v1/public/scoreboard").json}


def test_recruits_answer_a_joint_survey_by_web_and_sms_are_told_the_outcome_and_scored(
        apps, clients, pump, smtp_server, sms_gateway):
    keys = setup_agencies(apps, pump)
    panel, surveys, feedback = clients["panel"], clients["surveys"], clients["feedback"]
    manager = bearer(keys["council"]["panel_manager"])
    uploaded = panel.post("/api/v1/population-targets", data=TARGETS,
                          headers={**manager, "Content-Type": "text/csv"})
    assert uploaded.status_code == 201, uploaded.json

    # Recruitment: five young people through the campaign, beside seven existing members.
    recruit(clients, pump, smtp_server, sms_gateway, manager)
    existing = add_members(panel, keys["council"]["panel_manager"], 7)
    emails = WEB_RECRUITS + [m["email"] for m in existing]
    smtp_server.clear()
    sms_gateway.clear()

    # A joint survey of three agencies, answered on the web or by SMS dialogue.
    officer = bearer(keys["council"]["officer"])
    created = surveys.post("/api/v1/surveys", headers=officer, json=survey_payload(
        sponsors=(("council", "50.00"), ("police", "30.00"), ("health", "20.00")),
        sample_size=12, channels=["web", "sms_dialogue"], areas=[WARD],
        topics=["community safety"]))
    assert created.status_code == 201, created.json
    accept_invitations(surveys, keys, created.json)
    survey_id = created.json["id"]
    assert surveys.post(f"/api/v1/surveys/{survey_id}/launch", headers=officer).status_code == 202
    pump()

    # Each email member answers from the link in their invitation.
    for index, email in enumerate(emails):
        (invitation,) = mail_to(smtp_server, email, "Have your say")
        path = SURVEY_LINK.search(invitation.get_content()).group(1)
        assert surveys.get(path).status_code == 200
        answered = surveys.post(path, data={
            "feel_safe": str(2 + index % 3),
            "priority": "Street lighting" if index < 6 else "Police patrols", "comments": ""})
        assert answered.status_code == 303, answered.data
    # Each SMS member answers the dialogue by replying to panel's number.
    for phone in SMS_RECRUITS:
        assert texts_to(sms_gateway, phone)[-1].startswith("Q1/")
        for body in ("4", "1", "skip"):
            text_panel(clients, sms_gateway, phone, body)
            pump()
        assert texts_to(sms_gateway, phone)[-1].startswith("Thank you, your answers are saved.")

    analyst = bearer(keys["health"]["analyst"])
    results = surveys.get(f"/api/v1/surveys/{survey_id}/results", headers=analyst).json
    assert results["responded"] == 12
    assert results["questions"][1]["counts"] == {
        "Street lighting": 8, "Police patrols": 4, "Welfare services": 0}
    assert surveys.post(f"/api/v1/surveys/{survey_id}/close", headers=officer).status_code == 200
    pump()

    # The draft matches the survey's results; every sponsor sees it; nothing published yet.
    owner_key = keys["health"]["officer"]
    (report,) = feedback.get("/api/v1/reports", headers=bearer(owner_key)).json
    assert report["respondents"] == 12 and sorted(report["sponsors"]) == [
        "council", "health", "police"]
    assert [q["counts"] for q in report["survey_results"]] == [
        q["counts"] for q in results["questions"]]
    assert report["results"][1]["counts"] == {
        "Street lighting": None, "Police patrols": None, "Welfare services": 0}
    assert report["areas"] == [WARD] and report["topics"] == ["community safety"]
    # Weighted to the census margins panel holds: the young were fewer than their share.
    assert report["weighting"]["dimensions"] == ["age_band"]
    assert ("Fewer answered than their share of the population among people aged 16 to 24 "
            "(fewer than 10 people of those who answered, 60% of the population).") in (
        report["representativeness"])
    before = scoreboard(clients)
    assert {a: (r["surveys_closed"], r["reports_published"]) for a, r in before.items()} == {
        "council": (1, 0), "police": (1, 0), "health": (1, 0)}

    # The decision owner completes it, with commitments by two agencies, and publishes.
    owner = bearer(owner_key)
    completed = feedback.patch(f"/api/v1/reports/{report['id']}", headers=owner, json={
        "we_did": "New street lighting on Station Road this winter.",
        "decided_on": report["closed_at"][:10], "decision_relation": "follows",
        "preference_question": "priority", "chosen_answer": "Street lighting"})
    assert completed.status_code == 200, completed.json
    for action, agency in (("Light Station Road", "council"),
                           ("Patrol the station after dark", "police")):
        made = feedback.post(f"/api/v1/reports/{report['id']}/commitments", headers=owner,
                             json={"action": action, "agency": agency, "due_on": "2027-03-01"})
        assert made.status_code == 201, made.json
    smtp_server.clear()
    sms_gateway.clear()
    published = feedback.post(f"/api/v1/reports/{report['id']}/publish", headers=owner)
    assert published.status_code == 200 and published.json["respondents_to_tell"] == 12
    pump()

    # Every respondent told exactly once, on their own channel, with a link to their page.
    told_by_email = [m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
    told_by_sms = [m["to"] for m in sms_gateway.messages if "you said, we did" in m["body"]]
    assert sorted(told_by_email) == sorted(emails)
    assert sorted(told_by_sms) == sorted(SMS_RECRUITS)
    with apps["panel"].app_context(), new_session() as session:
        statuses = session.scalars(select(Delivery.status).where(
            Delivery.template == "outcome")).all()
    assert len(statuses) == 12 and set(statuses) == {"sent"}
    (text,) = texts_to(sms_gateway, SMS_RECRUITS[0])
    page = feedback.get(MEMBER_PAGE.search(text).group(1)).get_data(as_text=True)
    assert "Feeling safe in the town centre" in page
    assert "New street lighting on Station Road this winter." in page
    assert "Patrol the station after dark" in page

    # The public sees the report by topic, and the scoreboard has moved.
    listed = feedback.get("/api/v1/public/reports?topic=community safety").json
    assert [r["id"] for r in listed] == [report["id"]]
    assert listed[0]["decision_relation"] == "follows"
    after = scoreboard(clients)
    for agency in ("council", "police", "health"):
        assert (after[agency]["reports_published"], after[agency]["overdue_reports"]) == (1, 0)
        assert after[agency]["median_days_to_publish"] == 0.0
    assert (after["council"]["commitments"], after["police"]["commitments"]) == (1, 1)
    assert after["health"]["commitments"] == 0
    assert "Riverside Health" in feedback.get("/scoreboard").get_data(as_text=True)
