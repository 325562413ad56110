"""SMS both ways: signed webhooks, STOP for every agency, replies for surveys, JOIN, statuses,
and a gateway that says 429."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from services.panel.models import Delivery, Member
from shared.db import new_session
from tests.fakes.smtp_server import free_port
from tests.panel.factories import make_members, member, run_draw, set_member
from tests.panel.test_joining import _deliver

INBOUND = "http://panel.test/sms/inbound"
STATUS = "http://panel.test/sms/status"


def text_in(clients, sms_gateway, phone: str, body: str, signature: str | None = None,
            sid: str | None = None):
    """A signed inbound SMS as the gateway posts it; each a new message unless `sid` is given."""
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": sms_gateway.account_sid,
            "From": phone, "To": "+447700900999", "Body": body, "NumMedia": "0",
            "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    sig = signature if signature is not None else sms_gateway.signature(INBOUND, form)
    return clients["panel"].post("/sms/inbound", data=form, headers={"X-Twilio-Signature": sig})


def surveys_jobs(redis_server, kind: str) -> list[dict]:
    queue = Queue("surveys", connection=Redis.from_url(redis_server.url),
                  serializer=JSONSerializer)
    return [j.args[0]["payload"] for j in queue.jobs if j.args[0]["type"] == kind]


def test_inbound_sms_with_a_bad_signature_is_refused(apps, clients, sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    assert text_in(clients, sms_gateway, "+447700900000", "STOP", "bad+sig=").status_code == 403
    form = {"From": "+447700900000", "Body": "STOP"}
    forged = clients["panel"].post("/sms/inbound", data=form, headers={
        "X-Twilio-Signature": sms_gateway.signature("https://elsewhere.test/sms/inbound", form)})
    assert forged.status_code == 403
    assert clients["panel"].post("/sms/inbound", data=form).status_code == 403
    assert member(apps["panel"], refs[0]).opted_out_at is None


def test_stop_is_honoured_for_every_agency(apps, clients, pump, sms_gateway):
    refs = make_members(apps["panel"], 2, channel="sms")
    response = text_in(clients, sms_gateway, "+447700900000", "  stop ")
    assert response.status_code == 200 and b"no more messages from any agency" in response.data
    stopped = member(apps["panel"], refs[0])
    assert stopped.opted_out_at is not None and not stopped.consent_surveys
    for survey_id, agency in enumerate(("council", "police", "health", "college"), start=1):
        drawn = {m["member_ref"] for m in run_draw(apps["panel"], survey_id=survey_id, size=2,
                                                   sponsors=[agency])["members"]}
        assert refs[0] not in drawn
    # Whatever template any agency asks for, nothing is sent to them.
    for number, template in enumerate(("invitation", "reminder", "outcome", "progress")):
        _deliver(apps, template, refs[0], ref_prefix=f"{template}{number}")
    pump()
    assert sms_gateway.messages == []
    with apps["panel"].app_context(), new_session() as session:
        assert set(session.scalars(select(Delivery.status))) == {"opted_out"}
    assert b"welcome back" in text_in(clients, sms_gateway, "+447700900000", "START").data
    assert member(apps["panel"], refs[0]).opted_out_at is None


def test_help_is_answered_and_stop_all_counts_as_stop(apps, clients, sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    assert b"Reply STOP" in text_in(clients, sms_gateway, "+447700900000", "HELP").data
    text_in(clients, sms_gateway, "+447700900000", "STOP ALL")
    assert member(apps["panel"], refs[0]).opted_out_at is not None


def test_other_replies_go_to_surveys_with_the_member_ref(apps, clients, pump, sms_gateway,
                                                          redis_server):
    refs = make_members(apps["panel"], 1, channel="sms")
    response = text_in(clients, sms_gateway, "+447700900000", " 4 ")
    assert response.status_code == 200 and b"<Message>" not in response.data
    pump.relay("panel")
    replies = surveys_jobs(redis_server, "surveys.sms_reply")
    assert len(replies) == 1
    assert replies[0]["member_ref"] == refs[0] and replies[0]["body"] == " 4 "
    assert "+44" not in str(replies)
    text_in(clients, sms_gateway, "+447700900555", "hello")  # not a member: nothing forwarded
    pump.relay("panel")
    assert len(surveys_jobs(redis_server, "surveys.sms_reply")) == 1


def test_a_replayed_inbound_sms_is_acted_on_once_and_answered_once(apps, clients, pump,
                                                                   sms_gateway, redis_server):
    make_members(apps["panel"], 1, channel="sms")
    sid = "SM" + "7" * 32
    first = text_in(clients, sms_gateway, "+447700900000", "2", sid=sid)
    again = text_in(clients, sms_gateway, "+447700900000", "2", sid=sid)
    assert first.status_code == again.status_code == 200
    pump.relay("panel")
    assert len(surveys_jobs(redis_server, "surveys.sms_reply")) == 1
    # A replayed keyword is not answered a second time either.
    def help_text(sid):
        return text_in(clients, sms_gateway, "+447700900000", "HELP", sid=sid).data

    assert b"Reply STOP" in help_text("SMhelp")
    assert b"<Message>" not in help_text("SMhelp")


def test_join_by_sms_asks_for_the_profile_and_yes_confirms(apps, clients, sms_gateway):
    def say(body):
        return text_in(clients, sms_gateway, "+447700900321", body).data.decode()

    assert "How old are you" in say("JOIN")
    for not_an_age in ("twelve", "²⁵", "9" * 5000):  # asked again, never a server error
        assert "as a number" in say(not_an_age)
    assert "F female" in say("19")
    assert "ethnic group" in say("m")
    assert "disability" in say("B")
    assert "ward" in say("N")
    assert "Reply YES" in say("E05001002")
    assert "you are on the panel" in say("YES")
    with apps["panel"].app_context(), new_session() as session:
        joined = session.scalars(select(Member)).one()
    assert joined.phone == "+447700900321" and joined.status == "active"
    assert joined.profile()["age_band"] == "16-24" and joined.area == "E05001002"
    assert (joined.gender, joined.ethnicity, joined.disability) == ("male", "black",
                                                                   "not_disabled")


def test_status_callbacks_never_move_a_terminal_status_back(apps, clients, pump, sms_gateway,
                                                            redis_server):
    refs = make_members(apps["panel"], 1, channel="sms")
    _deliver(apps, "invitation", refs[0])
    pump.relay("surveys")
    pump.work("panel")
    sent = sms_gateway.messages[0]
    assert sent["status_callback"] == STATUS

    def callback(status):
        form = {"MessageSid": sent["sid"], "SmsSid": sent["sid"], "MessageStatus": status,
                "SmsStatus": status, "AccountSid": sms_gateway.account_sid,
                "From": "+447700900999", "To": sent["to"], "ApiVersion": "2010-04-01"}
        return clients["panel"].post("/sms/status", data=form, headers={
            "X-Twilio-Signature": sms_gateway.signature(STATUS, form)})

    def status():
        with apps["panel"].app_context(), new_session() as session:
            return session.scalar(select(Delivery.status))

    assert callback("delivered").status_code == 204 and status() == "delivered"
    callback("sent")
    callback("undelivered")
    assert status() == "delivered"
    pump.relay("panel")
    reports = surveys_jobs(redis_server, "surveys.delivery_report")
    assert [d["status"] for r in reports for d in r["deliveries"]] == ["sent", "delivered"]
    assert clients["panel"].post("/sms/status", data={"MessageSid": sent["sid"],
                                                      "MessageStatus": "failed"}).status_code == 403


def test_gateway_429_is_retried_after_its_wait_and_sent_exactly_once(apps, pump, sms_gateway):
    refs = make_members(apps["panel"], 2, channel="sms")
    sms_gateway.refuse_next(2, retry_after="0")
    _deliver(apps, "invitation", *refs)
    pump()
    assert sms_gateway.attempts == 4
    assert sorted(m["to"] for m in sms_gateway.messages) == ["+447700900000", "+447700900001"]
    with apps["panel"].app_context(), new_session() as session:
        deliveries = session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [d.status for d in deliveries] == ["sent", "sent"]
    # Both went out together and were both refused once: each tried twice, sent once.
    assert [d.attempts for d in deliveries] == [2, 2]


def test_a_gateway_that_keeps_refusing_leaves_the_message_waiting_not_lost(apps, pump,
                                                                           sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    sms_gateway.refuse_next(10, retry_after="0")
    _deliver(apps, "invitation", refs[0])
    pump.relay("surveys")
    pump.work("panel")  # the job fails this run; RQ schedules its retry
    with apps["panel"].app_context(), new_session() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert delivery.status == "pending" and sms_gateway.messages == []
    sms_gateway.clear()
    from services.panel.sending import send_batch

    with apps["panel"].app_context():
        assert send_batch(delivery.batch_id) == 1  # what RQ's retry runs
        assert send_batch(delivery.batch_id) == 0  # and never twice
    assert len(sms_gateway.messages) == 1


def test_messages_wait_while_the_gateway_is_unreachable_and_go_once_it_is_back(
        apps, pump, sms_gateway, monkeypatch):
    refs = make_members(apps["panel"], 3, channel="sms")
    # Nothing listens on this port: every connection is refused before reaching a gateway.
    monkeypatch.setitem(apps["panel"].config, "SMS_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    pump.work("panel")  # the job fails this run; RQ schedules its retry
    with apps["panel"].app_context(), new_session() as session:
        deliveries = session.scalars(select(Delivery)).all()
    assert [d.status for d in deliveries] == ["pending"] * 3
    assert all(d.error.startswith("gateway:") for d in deliveries)
    monkeypatch.undo()
    from services.panel.sending import send_batch

    with apps["panel"].app_context():
        assert send_batch(deliveries[0].batch_id) == 3  # what RQ's retry runs
    assert sorted(m["to"] for m in sms_gateway.messages) == [
        "+447700900000", "+447700900001", "+447700900002"]


def test_dialogue_text_goes_by_sms_exactly_as_given(apps, pump, sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    with apps["surveys"].app_context(), new_session() as session:
        apps["surveys"].extensions["bus"].send(session, "panel.deliver", {
            "template": "dialogue", "context": {},
            "recipients": [{"member_ref": refs[0], "delivery_ref": "dialogue:1:q2",
                            "text": "Q2: How safe do you feel? Reply 1-5", "channel": "sms"}]})
        session.commit()
    pump()
    assert [m["body"] for m in sms_gateway.messages] == ["Q2: How safe do you feel? Reply 1-5"]


def test_join_with_a_campaign_code_is_attributed_and_skips_the_known_ward(apps, clients, pump,
                                                                          sms_gateway):
    from services.panel.models import Campaign

    with apps["panel"].app_context(), new_session() as session:
        session.add(Campaign(agency="council", name="Riverside youth", code="RIV24",
                             target_group={"age_band": ["16-24"], "area": ["E05001009"]}))
        session.commit()
    for body in ("join riv24", "17", "F", "W", "Y"):
        reply = text_in(clients, sms_gateway, "+447700900444", body).data.decode()
    assert "Reply YES" in reply  # no ward question: the campaign names one ward
    text_in(clients, sms_gateway, "+447700900444", "yes")
    with apps["panel"].app_context(), new_session() as session:
        joined = session.scalars(select(Member)).one()
        campaign_id = session.scalar(select(Campaign.id))
    assert joined.area == "E05001009" and joined.campaign_id == campaign_id
    assert joined.disability == "disabled" and joined.source == "sms"


def test_messages_are_written_in_the_members_language(apps, pump, smtp_server):
    refs = make_members(apps["panel"], 1)
    set_member(apps["panel"], refs[0], language="cy")
    _deliver(apps, "invitation", refs[0])
    pump()
    message = smtp_server.messages[-1]
    assert message["Subject"] == "Dweud eich dweud: Parks"
    assert "I atal pob neges" in message.get_content()


@pytest.mark.parametrize(("template", "subject", "words"), [
    ("outcome", "Dywedoch chi, gwnaethom ni: Parks", "Beth wnaethom ni: Opened the gates"),
    ("progress", "Cynnydd ar Parks", "Y diweddaraf am Parks: Gates: done"),
])
def test_outcomes_and_progress_reach_a_welsh_member_in_welsh(apps, pump, smtp_server, template,
                                                             subject, words):
    refs = make_members(apps["panel"], 1)
    set_member(apps["panel"], refs[0], language="cy")
    _deliver(apps, template, refs[0])
    pump()
    message = smtp_server.messages[-1]
    assert message["Subject"] == subject
    assert words in message.get_content() and "Hello" not in message.get_content()


def test_a_welsh_member_texting_help_or_stop_is_answered_in_welsh(apps, clients, sms_gateway):
    refs = make_members(apps["panel"], 1, channel="sms")
    set_member(apps["panel"], refs[0], language="cy")
    assert "Atebwch STOP i atal pob neges" in text_in(
        clients, sms_gateway, "+447700900000", "HELP").data.decode()
    assert "ni fyddwch yn cael rhagor o negeseuon" in text_in(
        clients, sms_gateway, "+447700900000", "STOP").data.decode()
    assert "croeso yn ôl" in text_in(clients, sms_gateway, "+447700900000", "START").data.decode()
