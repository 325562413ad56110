"""Senders that do not answer, drop the line or say "not now": no message is lost or sent twice."""

from __future__ import annotations

import time

from sqlalchemy import select

from services.panel.models import Delivery
from services.panel.sending import send_batch
from shared.db import new_session
from tests.panel.factories import make_members
from tests.panel.test_joining import _deliver
from tests.panel.test_sms import surveys_jobs
from tests.scenario import bearer, setup_agencies


def deliveries(app) -> list[Delivery]:
    with app.app_context(), new_session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def reported(redis_server) -> dict[str, list[str]]:
    """Every status surveys was told, per delivery_ref, in the order told."""
    told: dict[str, list[str]] = {}
    for report in surveys_jobs(redis_server, "surveys.delivery_report"):
        for delivery in report["deliveries"]:
            told.setdefault(delivery["delivery_ref"], []).append(delivery["status"])
    return told


def test_a_gateway_that_takes_a_text_and_never_answers_loses_no_message(
        apps, clients, pump, sms_gateway, redis_server, monkeypatch):
    keys = setup_agencies(apps, pump)
    monkeypatch.setitem(apps["panel"].config, "DELIVERY_TIMEOUT_SECONDS", 1.0)
    refs = make_members(apps["panel"], 5, channel="sms")
    sms_gateway.hang_next(2)
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")

    statuses = [d.status for d in deliveries(apps["panel"])]
    # The two it took may have gone: never "failed", never sent again by itself.
    assert sorted(statuses) == ["sent"] * 3 + ["unconfirmed"] * 2
    told = reported(redis_server)
    assert sorted(s for states in told.values() for s in states) == \
        ["sent"] * 3 + ["unconfirmed"] * 2
    with apps["panel"].app_context():
        assert send_batch(deliveries(apps["panel"])[0].batch_id) == 0
    assert sms_gateway.attempts == 5 and len(sms_gateway.messages) == 3
    listed = clients["panel"].get("/api/v1/deliveries?status=unconfirmed",
                                  headers=bearer(keys["council"]["panel_manager"]))
    assert [d["error"][:19] for d in listed.json] == ["gateway: no answer:"] * 2


def test_a_mail_server_dropping_the_line_resends_only_what_certainly_did_not_go(
        apps, pump, smtp_server, redis_server):
    refs = make_members(apps["panel"], 3, channel="email")
    smtp_server.reset_next(1, at="rcpt")  # before the message: nothing went
    smtp_server.reset_next(1, at="data")  # after the message: it went, nobody said so
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")

    batch = deliveries(apps["panel"])
    assert sorted(d.status for d in batch) == ["sent", "sent", "unconfirmed"]
    unconfirmed = next(d for d in batch if d.status == "unconfirmed")
    assert unconfirmed.error.startswith("smtp: no answer once the message was sent")
    # Each address got its message once: the one dropped before the message was sent again.
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "m0@example.org", "m1@example.org", "m2@example.org"]
    assert sorted(s for states in reported(redis_server).values() for s in states) == [
        "sent", "sent", "unconfirmed"]


def test_a_gateway_answering_503_is_given_time_not_a_flood(apps, pump, sms_gateway):
    refs = make_members(apps["panel"], 150, channel="sms")
    sms_gateway.refuse_for(2.0, status=503, retry_after="1")
    started = time.monotonic()
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")  # a run stopped by "not now" is retried at once, and waits on

    assert [d.status for d in deliveries(apps["panel"])] == ["sent"] * 150
    assert len({m["to"] for m in sms_gateway.messages}) == len(sms_gateway.messages) == 150
    # The first chunk (100) met the 503; the rest waited, and one text probed, a second or
    # more apart as Retry-After asked, until the gateway took it. Resending everything each
    # round, as before, made 600 requests in the same two seconds.
    refused = sms_gateway.attempts - 150
    assert refused <= 100 + 3, sms_gateway.attempts
    assert time.monotonic() - started >= 2.0
    print(f"\n503 for 2 s: {refused} refused requests for 150 texts, each sent once")
