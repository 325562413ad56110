"""The whole flow across the three services, through their HTTP APIs and real RQ workers."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from services.panel.models import Delivery
from services.surveys.models import Invitation
from shared.db import new_session
from tests.scenario import accept_invitations, add_members, bearer, setup_agencies, survey_payload

LINK = re.compile(r"http://surveys\.test/r/([A-Za-z0-9_-]+)")


def invitation_tokens(surveys_app) -> list[str]:
    with surveys_app.app_context(), new_session() as session:
        return list(session.scalars(select(Invitation.token).order_by(Invitation.id)))


def test_recruit_survey_answer_close_publish_and_tell_every_respondent(
        apps, clients, pump, smtp_server, sms_gateway):
    keys = setup_agencies(apps, pump)
    panel, surveys, feedback = clients["panel"], clients["surveys"], clients["feedback"]

    add_members(panel, keys["council"]["panel_manager"], 12, sms_every=4)

    officer = bearer(keys["council"]["officer"])
    created = surveys.post("/api/v1/surveys", headers=officer, json=survey_payload(
        sponsors=(("council", "50.00"), ("police", "30.00"), ("health", "20.00")),
        sample_size=8))
    assert created.status_code == 201, created.json
    accept_invitations(surveys, keys, created.json)
    survey_id = created.json["id"]
    assert surveys.post(f"/api/v1/surveys/{survey_id}/launch", headers=officer).status_code == 202

    pump()

    # Panel drew 8 of the 12 members; each got one invitation on their own channel.
    tokens = invitation_tokens(apps["surveys"])
    assert len(tokens) == 8
    assert all(len(token) >= 43 for token in tokens)  # 32 random bytes, base64url
    emails = [m for m in smtp_server.messages if "Have your say" in m["Subject"]]
    texts = [m for m in sms_gateway.messages if "have your say" in m["body"]]
    assert len(emails) + len(texts) == 8
    assert texts, "the members who prefer SMS were texted"
    sent_tokens = {LINK.search(m.get_content()).group(1) for m in emails}
    sent_tokens |= {LINK.search(m["body"]).group(1) for m in texts}
    assert sent_tokens == set(tokens)

    # Five citizens answer by web; a second submission is refused politely.
    for index, token in enumerate(tokens[:5]):
        page = surveys.get(f"/r/{token}")
        assert page.status_code == 200 and b"Feeling safe in the town centre" in page.data
        answered = surveys.post(f"/r/{token}", data={
            "feel_safe": str(1 + index % 5), "priority": "Street lighting" if index < 3
            else "Police patrols", "comments": "More lights near the station" if index == 0
            else ""})
        assert answered.status_code == 303
        thanks = surveys.get(answered.headers["Location"])
        assert b"We will tell you what was decided and why" in thanks.data
    again = surveys.post(f"/r/{tokens[0]}", data={"feel_safe": "2", "priority": "Police patrols"})
    assert again.status_code == 409
    assert b"already answered" in again.data

    # A co-sponsor sees the results; the officer closes; feedback drafts the report.
    results = surveys.get(f"/api/v1/surveys/{survey_id}/results",
                          headers=bearer(keys["police"]["analyst"]))
    assert results.json["responded"] == 5
    assert results.json["questions"][1]["counts"] == {
        "Street lighting": 3, "Police patrols": 2, "Welfare services": 0}
    closed = surveys.post(f"/api/v1/surveys/{survey_id}/close", headers=officer)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    pump()

    owner = bearer(keys["health"]["officer"])
    drafts = feedback.get("/api/v1/reports", headers=owner).json
    assert [d["survey_id"] for d in drafts] == [survey_id]
    report = drafts[0]
    assert report["status"] == "draft" and report["respondents"] == 5 and report["invited"] == 8
    assert sorted(report["sponsors"]) == ["council", "health", "police"]

    # The decision owner writes "we did" and "why", and publishes.
    completed = feedback.patch(f"/api/v1/reports/{report['id']}", headers=owner, json={
        "we_did": "We are adding street lighting on Station Road this winter.",
        "why": "Most people who answered put lighting first.",
        "decided_on": date.today().isoformat()})
    assert completed.status_code == 200, completed.json
    published = feedback.post(f"/api/v1/reports/{report['id']}/publish", headers=owner)
    assert published.status_code == 200 and published.json["respondents_to_tell"] == 5
    smtp_server.clear()
    sms_gateway.clear()
    pump()

    # Every respondent is told, exactly once, on their own channel.
    told = [m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
    told += [m["to"] for m in sms_gateway.messages if "you said, we did" in m["body"]]
    assert len(told) == 5 and len(set(told)) == 5
    with apps["panel"].app_context(), new_session() as session:
        outcome = session.scalars(select(Delivery).where(Delivery.template == "outcome")).all()
    assert len(outcome) == 5 and {d.status for d in outcome} == {"sent"}

    # Publishing again changes nothing and tells nobody twice.
    again = feedback.post(f"/api/v1/reports/{report['id']}/publish", headers=owner)
    assert again.status_code == 409

    listing = feedback.get("/you-said-we-did")
    assert listing.status_code == 200 and b"Feeling safe in the town centre" in listing.data
    public = feedback.get("/api/v1/public/reports").json
    assert [r["survey_id"] for r in public] == [survey_id]
