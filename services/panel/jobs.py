"""Queue handlers of panel: the only entry points for messages from the other services."""

from __future__ import annotations

import logging
import time
from functools import partial

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.consent import may_receive, member_token
from services.panel.contact_cap import ContactCap
from services.panel.delivery import (
    DeliveryFailed,
    RecipientOptedOut,
    TryLater,
    senders_from_config,
)
from services.panel.draws import draw
from services.panel.imports import run_import
from services.panel.messaging import render
from services.panel.models import ApiKey, Delivery, Member, MemberImport
from shared.auth import revoke_stored_key, store_issued_key
from shared.bus import utcnow
from shared.db import new_session
from shared.service import bus

log = logging.getLogger(__name__)

IN_CLAUSE_CHUNK = 1000
INLINE_ATTEMPTS = 4  # tries of one message within a job run before the job itself retries
MAX_INLINE_WAIT_SECONDS = 5.0


class DeliveriesDeferred(RuntimeError):
    """Some messages could not be handed on yet; RQ retries the job, which sends only those."""


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def draw_sample(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.draw_sample", envelope, _draw_sample)


def _draw_sample(session: Session, payload: dict) -> None:
    result = draw(session, payload, ContactCap.from_config(current_app.config), utcnow())
    batch_size = current_app.config["DELIVERY_BATCH_SIZE"]
    batches = list(_chunks(result.member_ids, batch_size)) or [[]]
    # Cells travel in the first batch only: they describe the whole draw.
    for number, ids in enumerate(batches):
        members = session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id)) \
            if ids else []
        bus().send(session, "surveys.sample_drawn", {
            "survey_id": payload["survey_id"],
            "draw_id": payload.get("draw_id"),
            "members": [
                {"member_ref": m.member_ref, "channel": m.preferred_channel,
                 "language": m.language, "profile": m.profile()}
                for m in members
            ],
            "shortfall": result.shortfall,
            "cells": result.cells if number == 0 else [],
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
        members.update((m.member_ref, m) for m in session.scalars(
            select(Member).where(Member.member_ref.in_(chunk))))
    for chunk in _chunks([r["delivery_ref"] for r in recipients], IN_CLAUSE_CHUNK):
        already.update(session.scalars(select(Delivery.delivery_ref).where(
            Delivery.delivery_ref.in_(chunk))))
    template = payload["template"]
    reports = []
    for recipient in recipients:
        member = members.get(str(recipient["member_ref"]))
        if recipient["delivery_ref"] in already:
            continue
        if member is None:
            reports.append({"delivery_ref": recipient["delivery_ref"], "status": "failed"})
            continue
        channel = recipient.get("channel") or member.preferred_channel
        subject, body = render(template, channel, payload["context"], recipient.get("link"),
                               language=member.language, unsubscribe=unsubscribe_url(member),
                               text=recipient.get("text"))
        status = may_receive(member, template) or "pending"
        session.add(Delivery(
            delivery_ref=recipient["delivery_ref"], batch_id=batch_id,
            member_ref=member.member_ref, template=template,
            channel=channel, subject=subject[:200], body=body, status=status,
        ))
        if status != "pending":
            reports.append({"delivery_ref": recipient["delivery_ref"], "status": status})
    if reports:
        bus().send(session, "surveys.delivery_report", {"deliveries": reports})


def unsubscribe_url(member: Member) -> str:
    token = member_token(current_app.config["SECRET_KEY"], member.member_ref)
    return f"{current_app.config['PANEL_URL'].rstrip('/')}/u/{token}"


def email_headers(member: Member) -> dict[str, str]:
    """RFC 2369 / RFC 8058 one-click unsubscribe, on every email."""
    url = unsubscribe_url(member)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def send_batch(batch_id: str) -> int:
    senders = senders_from_config(current_app.config)
    sent = 0
    deferred = False
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
            # Consent may have been withdrawn since the batch was recorded: STOP wins.
            refusal = may_receive(member, delivery.template) if member else "failed"
            if refusal:
                delivery.status = refusal
                if delivery.template != "confirm_join":
                    reports.append({"delivery_ref": delivery.delivery_ref, "status": refusal})
                session.commit()
                continue
            outcome = _send_one(session, senders, delivery, member)
            if outcome == "pending":
                deferred = True
                continue
            sent += outcome == "sent"
            if delivery.template != "confirm_join":  # panel's own message, not surveys'
                reports.append({"delivery_ref": delivery.delivery_ref, "status": delivery.status})
        if reports:
            bus().send(session, "surveys.delivery_report", {"deliveries": reports})
            session.commit()
    if deferred:
        raise DeliveriesDeferred(f"batch {batch_id}: some messages wait for the gateway")
    return sent


def _send_one(session: Session, senders: dict, delivery: Delivery, member: Member) -> str:
    """Send one message, retrying in place when the gateway says it did not take it."""
    address = member.email if delivery.channel == "email" else member.phone
    headers = email_headers(member) if delivery.channel == "email" else None
    wait = 0.5
    for _attempt in range(INLINE_ATTEMPTS):
        # Claim it before sending: a crash now leaves "sending", never a second send.
        delivery.status = "sending"
        delivery.attempts += 1
        session.commit()
        try:
            if address is None:
                raise DeliveryFailed("no address for this channel")
            delivery.provider_id = senders[delivery.channel].send(
                address, delivery.subject, delivery.body, headers=headers)
            delivery.status, delivery.sent_at = "sent", utcnow()
        except TryLater as exc:
            log.info("delivery %s deferred: %s", delivery.delivery_ref, exc)
            delivery.status, delivery.error = "pending", str(exc)
            session.commit()
            time.sleep(min(MAX_INLINE_WAIT_SECONDS,
                           exc.retry_after if exc.retry_after is not None else wait))
            wait *= 2
            continue
        except RecipientOptedOut as exc:
            # The gateway's own STOP list: honour it for every agency and channel.
            delivery.status, delivery.error = "opted_out", str(exc)
            if member.opted_out_at is None:
                from services.panel.consent import withdraw_everything

                withdraw_everything(session, member, source="gateway-21610", now=utcnow())
        except DeliveryFailed as exc:
            log.warning("delivery %s failed: %s", delivery.delivery_ref, exc)
            delivery.status, delivery.error = "failed", str(exc)
        session.commit()
        return delivery.status
    return "pending"


def import_members(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.import_members", envelope, _import_members)


def _import_members(session: Session, payload: dict) -> None:
    run = session.get(MemberImport, payload["import_id"])
    if run is None or run.status not in ("queued", "running"):
        return
    # Progress commits as it goes, so the inbox row of this message commits with the first
    # progress; a retry after a crash sees the run "running" and carries on idempotently.
    run_import(session, run, allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"])


def confirm_join(envelope: dict) -> int:
    with new_session() as session:
        bus().handle(session, "panel.confirm_join", envelope, _confirm_join)
    member_ref = str(envelope.get("payload", {}).get("member_ref"))
    return send_batch(f"confirm:{member_ref}")


def _confirm_join(session: Session, payload: dict) -> None:
    member = session.scalar(select(Member).where(Member.member_ref == str(payload["member_ref"])))
    if member is None or member.status != "pending":
        return
    token = member_token(current_app.config["SECRET_KEY"], member.member_ref, salt="confirm")
    link = f"{current_app.config['PANEL_URL'].rstrip('/')}/join/confirm/{token}"
    subject, body = render("confirm_join", member.preferred_channel, {}, link,
                           language=member.language, unsubscribe=unsubscribe_url(member))
    session.add(Delivery(
        delivery_ref=f"confirm_join:{member.member_ref}", batch_id=f"confirm:{member.member_ref}",
        member_ref=member.member_ref, template="confirm_join", channel=member.preferred_channel,
        subject=subject, body=body, status="pending"))


def api_key_issued(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_issued", envelope,
                            partial(store_issued_key, model=ApiKey))


def api_key_revoked(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_revoked", envelope,
                            partial(revoke_stored_key, model=ApiKey))
