"""A batch's outcomes reach surveys in one report a round, exactly once each, even when the
run that recorded them stopped before reporting; and a batch is still sent once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from services.panel.messaging import BatchRenderer, render
from services.panel.models import Delivery
from services.panel.sending import send_batch, sweep_unconfirmed_deliveries
from shared.bus import utcnow
from shared.db import new_session
from tests.panel.factories import make_members
from tests.panel.test_joining import CONTEXTS, _deliver
from tests.panel.test_sms import surveys_jobs


def told(redis_server) -> Counter:
    """How many times surveys was told each (delivery_ref, status)."""
    return Counter((d["delivery_ref"], d["status"])
                   for report in surveys_jobs(redis_server, "surveys.delivery_report")
                   for d in report["deliveries"])


def as_if_a_run_stopped_after_recording(app, delivery_ref: str, minutes_ago: int = 0) -> str:
    """The delivery sent and recorded by a run that stopped before its report: its batch."""
    with app.app_context(), new_session() as session:
        session.execute(update(Delivery).where(Delivery.delivery_ref == delivery_ref).values(
            status="sent", unreported=True, sent_at=utcnow(),
            claimed_at=utcnow() - timedelta(minutes=minutes_ago)))
        session.commit()
        return session.scalar(select(Delivery.batch_id).where(
            Delivery.delivery_ref == delivery_ref))


def test_a_batch_of_several_chunks_is_reported_in_one_report(apps, pump, sms_gateway,
                                                             redis_server):
    refs = make_members(apps["panel"], 250, channel="sms")
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")

    assert len(sms_gateway.messages) == 250  # three chunks of at most 100
    reports = surveys_jobs(redis_server, "surveys.delivery_report")
    assert len(reports) == 1
    assert told(redis_server) == {(f"d:{i}", "sent"): 1 for i in range(250)}


def test_outcomes_a_stopped_run_did_not_report_are_reported_once_by_the_next(
        apps, pump, sms_gateway, redis_server):
    refs = make_members(apps["panel"], 2, channel="sms")
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")
    before = told(redis_server)
    batch = as_if_a_run_stopped_after_recording(apps["panel"], "d:1")

    with apps["panel"].app_context():
        assert send_batch(batch) == 0  # what RQ's retry of the stopped job runs
        assert send_batch(batch) == 0
    pump.relay("panel")
    assert told(redis_server) - before == {("d:1", "sent"): 1}
    assert len(sms_gateway.messages) == 2  # and nobody got a message twice


def test_the_sweep_reports_what_no_later_run_of_its_batch_did(apps, pump, redis_server):
    refs = make_members(apps["panel"], 2, channel="sms")
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")
    before = told(redis_server)
    as_if_a_run_stopped_after_recording(apps["panel"], "d:0", minutes_ago=20)
    as_if_a_run_stopped_after_recording(apps["panel"], "d:1", minutes_ago=1)  # its run may go on

    with apps["panel"].app_context():
        sweep_unconfirmed_deliveries()
        sweep_unconfirmed_deliveries()
    pump.relay("panel")
    assert told(redis_server) - before == {("d:0", "sent"): 1}


def test_the_same_messages_asked_for_again_are_not_sent_again(apps, pump, sms_gateway,
                                                              redis_server):
    refs = make_members(apps["panel"], 120, channel="sms")
    _deliver(apps, "invitation", *refs)
    _deliver(apps, "invitation", *refs)  # another message, the same deliveries
    pump.relay("surveys")
    pump.work("panel")
    pump.relay("panel")

    assert sorted(m["to"] for m in sms_gateway.messages) == sorted(
        {m["to"] for m in sms_gateway.messages})
    assert len(sms_gateway.messages) == 120
    assert told(redis_server) == {(f"d:{i}", "sent"): 1 for i in range(120)}


def test_a_batch_reads_exactly_as_each_message_rendered_alone():
    context = CONTEXTS["invitation"]
    for template in ("invitation", "reminder"):
        renderer = BatchRenderer(template, context)
        for channel in ("sms", "email"):
            for language in ("en", "cy"):
                for link, unsubscribe in (("http://surveys.test/r/abc", "http://panel.test/u/1"),
                                          ("http://surveys.test/r/a%20b", ""), (None, "")):
                    assert renderer.render(channel, link, language, unsubscribe) == render(
                        template, channel, context, link, language, unsubscribe)
