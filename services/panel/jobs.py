"""Queue handlers of panel: the only entry points for messages from the other services."""

from __future__ import annotations

import logging
from functools import partial

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.delivery import DeliveryFailed, senders_from_config
from services.panel.messaging import render
from services.panel.models import ApiKey, Delivery, Member
from services.panel.sampling import pick_at_random
from shared.auth import revoke_stored_key, store_issued_key
from shared.bus import utcnow
from shared.db import new_session
from shared.service import bus

log = logging.getLogger(__name__)

CONSENT_FOR_TEMPLATE = {"invitation": "consent_surveys", "outcome": "consent_outcomes"}
IN_CLAUSE_CHUNK = 1000


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def draw_sample(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.draw_sample", envelope, _draw_sample)


def _draw_sample(session: Session, payload: dict) -> None:
    candidates = list(session.scalars(select(Member.id).where(Member.consent_surveys.is_(True))))
    seed = payload["seed"] if payload["seed"] is not None else payload["survey_id"]
    chosen = pick_at_random(candidates, payload["size"], seed)
    shortfall = payload["size"] - len(chosen)
    batch_size = current_app.config["DELIVERY_BATCH_SIZE"]
    batches = list(_chunks(chosen, batch_size)) or [[]]
    for ids in batches:
        members = session.scalars(select(Member).where(Member.id.in_(ids))) if ids else []
        bus().send(session, "surveys.sample_drawn", {
            "survey_id": payload["survey_id"],
            "members": [
                {"member_ref": m.member_ref, "channel": m.preferred_channel, "profile": m.profile()}
                for m in members
            ],
            "shortfall": shortfall,
        })


def deliver(envelope: dict) -> int:
    """Record the batch's messages once, then send whatever of the batch is still unsent.

    Sending happens after the record commits, so a retry after a crash mid-batch
    sends the rest and never repeats a message already handed on.
    """
    batch_id = str(envelope.get("message_id"))
    with new_session() as session:
        bus().handle(session, "panel.deliver", envelope, partial(_record_batch, batch_id=batch_id))
    return send_batch(batch_id)


def _record_batch(session: Session, payload: dict, batch_id: str) -> None:
    recipients = payload["recipients"]
    refs = [str(r["member_ref"]) for r in recipients]
    members, already = {}, set()
    for chunk in _chunks(refs, IN_CLAUSE_CHUNK):
        members.update(
            (m.member_ref, m) for m in session.scalars(select(Member).where(Member.member_ref.in_(chunk)))
        )
    for chunk in _chunks([r["delivery_ref"] for r in recipients], IN_CLAUSE_CHUNK):
        already.update(session.scalars(select(Delivery.delivery_ref).where(
            Delivery.delivery_ref.in_(chunk))))
    consent = CONSENT_FOR_TEMPLATE[payload["template"]]
    for recipient in recipients:
        member = members.get(str(recipient["member_ref"]))
        if recipient["delivery_ref"] in already or member is None:
            continue
        subject, body = render(payload["template"], member.preferred_channel,
                               payload["context"], recipient["link"])
        session.add(Delivery(
            delivery_ref=recipient["delivery_ref"], batch_id=batch_id,
            member_ref=member.member_ref, template=payload["template"],
            channel=member.preferred_channel, subject=subject, body=body,
            status="pending" if getattr(member, consent) else "no_consent",
        ))


def send_batch(batch_id: str) -> int:
    senders = senders_from_config(current_app.config)
    sent = 0
    with new_session() as session:
        pending = list(session.scalars(
            select(Delivery).where(Delivery.batch_id == batch_id, Delivery.status == "pending")
            .order_by(Delivery.id)
        ))
        members = {}
        for chunk in _chunks([d.member_ref for d in pending], IN_CLAUSE_CHUNK):
            members.update((m.member_ref, m) for m in session.scalars(
                select(Member).where(Member.member_ref.in_(chunk))))
        reports = []
        for delivery in pending:
            member = members.get(delivery.member_ref)
            address = None
            if member is not None:
                address = member.email if delivery.channel == "email" else member.phone
            # Claim it before sending: a crash now leaves "sending", never a second send.
            delivery.status = "sending"
            session.commit()
            try:
                if address is None:
                    raise DeliveryFailed("no address for this channel")
                delivery.provider_id = senders[delivery.channel].send(
                    address, delivery.subject, delivery.body)
                delivery.status, delivery.sent_at = "sent", utcnow()
                sent += 1
            except DeliveryFailed as exc:
                log.warning("delivery %s failed: %s", delivery.delivery_ref, exc)
                delivery.status, delivery.error = "failed", str(exc)
            if delivery.template == "invitation":
                reports.append({"delivery_ref": delivery.delivery_ref, "status": delivery.status})
            session.commit()
        if reports:
            bus().send(session, "surveys.delivery_report", {"deliveries": reports})
            session.commit()
    return sent


def api_key_issued(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_issued", envelope,
                            partial(store_issued_key, model=ApiKey))


def api_key_revoked(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_revoked", envelope,
                            partial(revoke_stored_key, model=ApiKey))
