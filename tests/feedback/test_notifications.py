"""Telling respondents: the outcome once however often the message arrives, news of
commitments at most once a week, and each member's own page from the link they were sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from services.feedback.jobs import send_progress_news
from services.feedback.models import Outbox
from services.panel.models import Delivery
from shared.db import new_session
from tests.feedback.closing import (
    close_survey,
    complete_and_publish,
    deliveries_asked,
    only_report,
    send,
)
from tests.scenario import add_members, bearer, member_payload, setup_agencies

MEMBER_LINK = re.compile(r"http://feedback\.test(/you/[0-9a-f]{32}\.[A-Za-z0-9_-]+)")


def published_to(apps, clients, pump, members: int, **publish_changes):
    keys = setup_agencies(apps, pump)
    people = add_members(clients["panel"], keys["council"]["panel_manager"], members,
                         sms_every=3)
    close_survey(pump, {"Mornings": members - 1, "Evenings": 1}, sponsors=("council", "police"),
                 respondent_refs=[m["member_ref"] for m in people])
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    published = complete_and_publish(clients["feedback"], officer, report["id"],
                                     **publish_changes)
    assert published.status_code == 200, published.json
    pump()
    return keys, people, report


def outcome_envelopes(feedback_app) -> list[dict]:
    with feedback_app.app_context(), new_session() as session:
        return [json.loads(body) for body in session.scalars(
            select(Outbox.body).where(Outbox.type == "panel.deliver").order_by(Outbox.id))]


def told(smtp_server, sms_gateway) -> list[str]:
    """Everyone who got a "you said, we did" message, by email address or phone number."""
    return ([m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
            + [m["to"] for m in sms_gateway.messages if "you said, we did" in m["body"]])


def test_each_respondent_is_told_once_when_the_outcome_message_is_delivered_twice(
        apps, clients, pump, smtp_server, sms_gateway):
    _, people, _ = published_to(apps, clients, pump, 7)
    pump()
    assert sorted(told(smtp_server, sms_gateway)) == sorted(
        m["email"] or m["phone"] for m in people)

    # The same message again (a relay that crashed before marking it sent), and a copy
    # under a new message_id (a publish replayed): panel sends nothing more.
    queue = Queue("panel", connection=pump.redis, serializer=JSONSerializer)
    for envelope in outcome_envelopes(apps["feedback"]):
        queue.enqueue("services.panel.jobs.deliver", envelope)
        queue.enqueue("services.panel.jobs.deliver",
                      {**envelope, "message_id": "00000000-0000-4000-8000-000000000001"})
    pump()
    assert len(told(smtp_server, sms_gateway)) == 7
    with apps["panel"].app_context(), new_session() as session:
        outcome = session.scalars(select(Delivery).where(Delivery.template == "outcome")).all()
    assert len(outcome) == 7 and {d.status for d in outcome} == {"sent"}


def test_the_link_in_the_outcome_message_opens_the_members_own_page(
        apps, clients, pump, smtp_server):
    keys, people, report = published_to(apps, clients, pump, 4)
    clients["feedback"].post(f"/api/v1/reports/{report['id']}/commitments",
                             headers=bearer(keys["council"]["officer"]),
                             json={"action": "Open at 8am on weekdays", "agency": "council",
                                   "due_on": "2027-02-01"})
    pump()
    mail = next(m for m in smtp_server.messages if m["To"] == people[1]["email"])
    path = MEMBER_LINK.search(mail.get_content()).group(1)
    page = clients["feedback"].get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "Library opening hours" in text
    assert "Libraries open earlier on weekdays." in text
    assert "Open at 8am on weekdays" in text and "planned" in text
    assert f"/you-said-we-did/{report['id']}" in text

    forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    assert clients["feedback"].get(forged).status_code == 404

    # Erased, the member's page no longer knows them.
    send(pump, "feedback.member_erased", {"member_ref": people[1]["member_ref"]})
    assert "Library opening hours" not in clients["feedback"].get(path).get_data(as_text=True)


def add_commitment_and_update(client, key: str, report_id: int, status: str, text: str) -> int:
    made = client.post(f"/api/v1/reports/{report_id}/commitments", headers=bearer(key),
                       json={"action": "Open at 8am on weekdays", "agency": "police",
                             "due_on": "2027-02-01"})
    assert made.status_code == 201, made.json
    updated = client.post(f"/api/v1/reports/{report_id}/commitments/{made.json['id']}/updates",
                          headers=bearer(key), json={"text": text, "status": status})
    assert updated.status_code == 201, updated.json
    return made.json["id"]


def progress_recipients(feedback_app) -> list[list[str]]:
    return [[r["member_ref"] for r in message["recipients"]]
            for message in deliveries_asked(feedback_app, "progress")]


def run_progress_job(feedback_app, now: datetime) -> int:
    with feedback_app.app_context():
        return send_progress_news(now=now)


def test_progress_on_commitments_reaches_respondents_at_most_once_a_week(
        apps, clients, pump, smtp_server, sms_gateway):
    keys, people, report = published_to(apps, clients, pump, 5)
    officer = keys["police"]["officer"]
    commitment = add_commitment_and_update(clients["feedback"], officer, report["id"],
                                           "in_progress", "Staff rotas agreed.")
    start = datetime.now(UTC)

    # Told the outcome today, nobody hears more this week ...
    assert run_progress_job(apps["feedback"], start + timedelta(hours=1)) == 0
    # ... then everyone hears the news once, however often the job runs.
    assert run_progress_job(apps["feedback"], start + timedelta(days=7, hours=1)) == 5
    assert run_progress_job(apps["feedback"], start + timedelta(days=7, hours=2)) == 0
    messages = deliveries_asked(apps["feedback"], "progress")
    assert len(messages) == 1
    assert messages[0]["context"]["news"] == "Open at 8am on weekdays: in progress."
    assert sorted(progress_recipients(apps["feedback"])[0]) == sorted(
        p["member_ref"] for p in people)
    assert all(MEMBER_LINK.match(r["link"]) for r in messages[0]["recipients"])
    smtp_server.clear()
    sms_gateway.clear()
    pump()
    heard = ([m["To"] for m in smtp_server.messages
              if m["Subject"] == "Progress on Library opening hours"]
             + [m["to"] for m in sms_gateway.messages if "update on Library" in m["body"]])
    assert sorted(heard) == sorted(p["email"] or p["phone"] for p in people)
    page = clients["feedback"].get(MEMBER_LINK.match(messages[0]["recipients"][0]["link"])
                                   .group(1)).get_data(as_text=True)
    assert "Staff rotas agreed." in page and "in progress" in page

    # More news the next day waits for the week to pass.
    done = clients["feedback"].post(
        f"/api/v1/reports/{report['id']}/commitments/{commitment}/updates",
        headers=bearer(officer), json={"text": "Open at 8am from Monday.", "status": "done"})
    assert done.status_code == 201
    # (The update is stamped with today's clock; the job's clock is moved on.)
    assert run_progress_job(apps["feedback"], start + timedelta(days=8)) == 0
    assert run_progress_job(apps["feedback"], start + timedelta(days=14, hours=2)) == 5
    refs = [r["delivery_ref"] for m in deliveries_asked(apps["feedback"], "progress")
            for r in m["recipients"]]
    assert len(refs) == len(set(refs)) == 10


def test_an_erased_member_hears_no_progress(apps, clients, pump):
    keys, people, report = published_to(apps, clients, pump, 3)
    send(pump, "feedback.member_erased", {"member_ref": people[0]["member_ref"]})
    add_commitment_and_update(clients["feedback"], keys["police"]["officer"], report["id"],
                              "in_progress", "Work has started.")
    assert run_progress_job(apps["feedback"], datetime.now(UTC) + timedelta(days=8)) == 2
    assert people[0]["member_ref"] not in progress_recipients(apps["feedback"])[0]


def test_a_member_hears_of_progress_on_two_reports_once_that_week(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    people = add_members(clients["panel"], keys["council"]["panel_manager"], 2)
    refs = [m["member_ref"] for m in people]
    officer = keys["police"]["officer"]
    for survey_id in (1, 2):
        close_survey(pump, {"Mornings": 2, "Evenings": 0}, survey_id=survey_id,
                     respondent_refs=refs)
    for report in clients["feedback"].get("/api/v1/reports", headers=bearer(officer)).json:
        assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
        add_commitment_and_update(clients["feedback"], officer, report["id"], "in_progress",
                                  "Under way.")
    pump()
    start = datetime.now(UTC)
    assert run_progress_job(apps["feedback"], start + timedelta(days=8)) == 2
    assert len(deliveries_asked(apps["feedback"], "progress")) == 1
    assert run_progress_job(apps["feedback"], start + timedelta(days=15, hours=1)) == 2
    assert len(deliveries_asked(apps["feedback"], "progress")) == 2


def test_a_welsh_speaker_is_told_the_outcome_under_the_surveys_welsh_title(
        apps, clients, pump, smtp_server):
    keys = setup_agencies(apps, pump)
    people = [clients["panel"].post("/api/v1/members", headers=bearer(
        keys["council"]["panel_manager"]), json={**member_payload(i), "language": language}).json
        for i, language in enumerate(("en", "cy"))]
    close_survey(pump, {"Mornings": 2}, respondent_refs=[p["member_ref"] for p in people],
                 title_translations={"cy": "Oriau agor llyfrgelloedd"})
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
    pump()
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects[people[0]["email"]] == "You said, we did: Library opening hours"
    assert subjects[people[1]["email"]] == "Dywedoch chi, gwnaethom ni: Oriau agor llyfrgelloedd"
