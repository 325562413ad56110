"""The bus: the outbox keeps messages while Redis is down; a repeated message has one effect."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from services import surveys
from services.feedback.models import Report
from services.panel.models import Delivery
from services.surveys.models import Outbox
from shared.db import new_session
from shared.messages import build_message
from tests.fakes.redis_server import PrivateRedis
from tests.scenario import add_members, bearer, setup_agencies, survey_payload


@pytest.fixture
def flaky_redis():
    server = PrivateRedis().start()
    yield server
    server.stop()


def test_outbox_keeps_messages_while_redis_is_down_and_relays_them_after(
        apps, pump, database_urls, flaky_redis):
    keys = setup_agencies(apps, pump)
    app = surveys.create_app({"DATABASE_URL": database_urls["surveys"],
                              "REDIS_URL": flaky_redis.url, "TESTING": True})
    client = app.test_client()
    officer = bearer(keys["council"]["officer"])
    survey_id = client.post("/api/v1/surveys", json=survey_payload(),
                            headers=officer).json["id"]

    flaky_redis.stop()
    assert client.get("/healthz").status_code == 503
    launched = client.post(f"/api/v1/surveys/{survey_id}/launch", headers=officer)
    assert launched.status_code == 202, "a request never fails because Redis is down"
    with app.app_context(), new_session() as session:
        assert app.extensions["bus"].relay(session) == 0
        pending = session.scalars(select(Outbox).where(Outbox.sent_at.is_(None))).all()
    assert [row.type for row in pending] == ["panel.draw_sample"]

    flaky_redis.start()
    with app.app_context(), new_session() as session:
        assert app.extensions["bus"].relay(session) == 1
        assert app.extensions["bus"].pending(session) == 0
    queue = Queue("panel", connection=app.extensions["redis"], serializer=JSONSerializer)
    job = queue.fetch_job(pending[0].message_id)
    assert job.func_name == "services.panel.jobs.draw_sample"
    assert job.args[0]["payload"]["survey_id"] == survey_id
    app.extensions["database"].engine.dispose()


def survey_closed_payload() -> dict:
    return {
        "survey_id": 41, "title": "Parks", "purpose": "Decide on park hours",
        "scope": "Opening hours can change", "sponsors": ["council"], "invited": 3,
        "decision": {"description": "Park hours", "owner": "Parks board",
                     "due": date(2027, 1, 1)},
        "closed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "questions": [{"code": "q1", "text": "Which?", "type": "single_choice", "base": 2,
                       "counts": {"A": 1, "B": 1}, "mean": None, "comments": 0}],
        "respondent_refs": [uuid.uuid4(), uuid.uuid4()]}


def survey_closed_envelope() -> dict:
    return build_message("feedback.survey_closed", survey_closed_payload())


def test_a_message_delivered_twice_has_one_effect(apps, pump, redis_server):
    envelope = json.loads(json.dumps(survey_closed_envelope()))
    queue = Queue("feedback", connection=pump.redis, serializer=JSONSerializer)
    first = queue.enqueue("services.feedback.jobs.survey_closed", envelope)
    second = queue.enqueue("services.feedback.jobs.survey_closed", envelope)
    pump.work("feedback")
    assert first.latest_result().return_value is True
    assert second.latest_result().return_value is False
    with apps["feedback"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_a_batch_delivered_twice_sends_each_message_once(apps, clients, pump, smtp_server):
    keys = setup_agencies(apps, pump)
    members = add_members(clients["panel"], keys["council"]["panel_manager"], 3)
    envelope = build_message("panel.deliver", {
        "template": "outcome", "context": {"survey_title": "Parks", "we_did": "Longer hours",
                                           "why": "Most asked for it"},
        "recipients": [{"member_ref": m["member_ref"], "delivery_ref": f"outcome:1:{i}",
                        "link": "http://feedback.test/you-said-we-did/1"}
                       for i, m in enumerate(members)]})
    envelope = json.loads(json.dumps(envelope))
    queue = Queue("panel", connection=pump.redis, serializer=JSONSerializer)
    queue.enqueue("services.panel.jobs.deliver", envelope)
    queue.enqueue("services.panel.jobs.deliver", envelope)
    pump.work("panel")
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(m["email"] for m in members)
    with apps["panel"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 3


def test_two_relays_at_once_push_each_message_once(apps, pump):
    app = apps["surveys"]
    with app.app_context(), new_session() as session:
        sent = [app.extensions["bus"].send(session, "feedback.survey_closed",
                                           survey_closed_payload())
                for _ in range(400)]
        session.commit()
    start, relayed = threading.Barrier(2), []

    def relay_all() -> None:
        with app.app_context():
            start.wait()
            count = 1
            while count:
                with new_session() as session:
                    count = app.extensions["bus"].relay(session, limit=100)
                    relayed.append(count)

    threads = [threading.Thread(target=relay_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pushed = Queue("feedback", connection=pump.redis, serializer=JSONSerializer).job_ids
    assert Counter(pushed) == Counter(sent), "each message on the queue once"
    assert sum(relayed) == 400
    with app.app_context(), new_session() as session:
        assert app.extensions["bus"].pending(session) == 0
