"""Deliveries a stopped worker left "sending": swept up as "unconfirmed", never sent again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from services.panel.jobs import sweep_unconfirmed_deliveries
from services.panel.models import Delivery
from shared.bus import utcnow
from shared.db import new_session
from tests.panel.factories import make_members
from tests.panel.test_joining import _deliver
from tests.panel.test_sms import STATUS, surveys_jobs
from tests.scenario import bearer, setup_agencies


def left_sending(apps, delivery_ref: str, minutes_ago: int) -> None:
    """As if the worker sending this message stopped that long ago, before recording it."""
    with apps["panel"].app_context(), new_session() as session:
        session.execute(update(Delivery).where(Delivery.delivery_ref == delivery_ref).values(
            status="sending", claimed_at=utcnow() - timedelta(minutes=minutes_ago)))
        session.commit()


def statuses(apps) -> dict[str, str]:
    with apps["panel"].app_context(), new_session() as session:
        return dict(session.execute(select(Delivery.delivery_ref, Delivery.status)).all())


def test_a_delivery_left_sending_is_marked_unconfirmed_reported_and_listed(
        apps, clients, pump, sms_gateway, redis_server):
    keys = setup_agencies(apps, pump)
    refs = make_members(apps["panel"], 2, channel="sms")
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")
    left_sending(apps, "d:0", minutes_ago=20)
    left_sending(apps, "d:1", minutes_ago=1)  # may still be on its way: left alone

    with apps["panel"].app_context():
        assert sweep_unconfirmed_deliveries() == 1
        assert sweep_unconfirmed_deliveries() == 0
    assert statuses(apps) == {"d:0": "unconfirmed", "d:1": "sending"}
    pump.relay("panel")
    assert {"delivery_ref": "d:0", "status": "unconfirmed"} in [
        d for report in surveys_jobs(redis_server, "surveys.delivery_report")
        for d in report["deliveries"]]

    manager = bearer(keys["council"]["panel_manager"])
    listed = clients["panel"].get("/api/v1/deliveries?status=unconfirmed", headers=manager)
    assert listed.status_code == 200
    assert [(d["delivery_ref"], d["error"][:35]) for d in listed.json] == [
        ("d:0", "the sender stopped before recording")]
    wrong = clients["panel"].get("/api/v1/deliveries?status=lost", headers=manager)
    assert wrong.status_code == 422 and "status" in wrong.json["errors"]["query"]
    assert len(sms_gateway.messages) == 2  # swept, never sent again


def test_the_gateway_can_still_confirm_an_unconfirmed_delivery(apps, clients, pump,
                                                               sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    _deliver(apps, "invitation", refs[0])
    pump.relay("surveys")
    pump.work("panel")
    left_sending(apps, "d:0", minutes_ago=20)
    with apps["panel"].app_context():
        sweep_unconfirmed_deliveries()
    sent = sms_gateway.messages[0]
    form = {"MessageSid": sent["sid"], "SmsSid": sent["sid"], "MessageStatus": "delivered",
            "SmsStatus": "delivered", "AccountSid": sms_gateway.account_sid,
            "From": "+447700900999", "To": sent["to"], "ApiVersion": "2010-04-01"}
    answered = clients["panel"].post("/sms/status", data=form, headers={
        "X-Twilio-Signature": sms_gateway.signature(STATUS, form)})
    assert answered.status_code == 204
    assert statuses(apps) == {"d:0": "delivered"}


def _callback(clients, sms_gateway, sent: dict, status: str):
    form = {"MessageSid": sent["sid"], "SmsSid": sent["sid"], "MessageStatus": status,
            "SmsStatus": status, "AccountSid": sms_gateway.account_sid,
            "From": "+447700900999", "To": sent["to"], "ApiVersion": "2010-04-01"}
    return clients["panel"].post("/sms/status", data=form, headers={
        "X-Twilio-Signature": sms_gateway.signature(STATUS, form)})


def test_the_gateway_saying_sent_moves_an_unconfirmed_delivery_to_sent(apps, clients, pump,
                                                                       sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    _deliver(apps, "invitation", refs[0])
    pump.relay("surveys")
    pump.work("panel")
    left_sending(apps, "d:0", minutes_ago=20)
    with apps["panel"].app_context():
        sweep_unconfirmed_deliveries()
    assert _callback(clients, sms_gateway, sms_gateway.messages[0], "sent").status_code == 204
    assert statuses(apps) == {"d:0": "sent"}
    _callback(clients, sms_gateway, sms_gateway.messages[0], "queued")  # late, out of order
    assert statuses(apps) == {"d:0": "sent"}


def test_a_message_the_gateway_canceled_is_reported_to_surveys_as_failed(
        apps, clients, pump, sms_gateway, redis_server):
    refs = make_members(apps["panel"], 1, channel="sms")
    _deliver(apps, "invitation", refs[0])
    pump.relay("surveys")
    pump.work("panel")
    assert _callback(clients, sms_gateway, sms_gateway.messages[0], "canceled").status_code \
        == 204
    assert statuses(apps) == {"d:0": "canceled"}
    pump.relay("panel")
    reported = [d["status"] for r in surveys_jobs(redis_server, "surveys.delivery_report")
                for d in r["deliveries"]]
    assert reported == ["sent", "failed"]
