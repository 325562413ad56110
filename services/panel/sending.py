"""Panel's delivery engine: a batch recorded once, then sent chunk by chunk, each chunk claimed
before it goes, so no retry, crash or second worker ever sends anyone a message twice; and the
sweep of what a stopped worker left "sending"."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.panel.consent import may_receive, member_token, withdraw_everything
from services.panel.delivery import (
    Outgoing,
    RecipientOptedOut,
    Sender,
    TryLater,
    Unconfirmed,
    opened_senders,
)
from services.panel.messaging import PANEL_TEMPLATES, render
from services.panel.models import Delivery, Member
from shared.bus import utcnow
from shared.db import among, insert_rows, new_session
from shared.service import bus
from shared.statuses import DeliveryStatus as D

log = logging.getLogger(__name__)

IN_CLAUSE_CHUNK = 1000
INLINE_ATTEMPTS = 4  # rounds of sending within a job run before the job itself retries
FIRST_BACKOFF_SECONDS = 0.25  # the wait after a first "not now", doubled after each next one
MAX_INLINE_WAIT_SECONDS = 5.0


class DeliveriesDeferred(RuntimeError):
    """Some messages could not be handed on yet; RQ retries the job, which sends only those."""


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


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
            select(Member).where(among(session, Member.member_ref, chunk))))
    for chunk in _chunks([r["delivery_ref"] for r in recipients], IN_CLAUSE_CHUNK):
        already.update(session.scalars(select(Delivery.delivery_ref).where(
            among(session, Delivery.delivery_ref, chunk))))
    template = payload["template"]
    reports, rows = [], []
    for recipient in recipients:
        member = members.get(str(recipient["member_ref"]))
        if recipient["delivery_ref"] in already:
            continue
        if member is None:
            reports.append({"delivery_ref": recipient["delivery_ref"], "status": D.FAILED})
            continue
        channel = recipient.get("channel") or member.preferred_channel
        # Only an email carries the unsubscribe link (an SMS says "Reply STOP").
        subject, body = render(template, channel, payload["context"], recipient.get("link"),
                               language=member.language, text=recipient.get("text"),
                               unsubscribe=unsubscribe_url(member) if channel == "email" else "")
        status = may_receive(member, template) or D.PENDING
        rows.append({"delivery_ref": recipient["delivery_ref"], "batch_id": batch_id,
                     "member_ref": member.member_ref, "template": template, "channel": channel,
                     "subject": subject[:200], "body": body, "status": status})
        if status != D.PENDING:
            reports.append({"delivery_ref": recipient["delivery_ref"], "status": status})
    insert_rows(session, Delivery.__table__, rows)
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
    """Send the batch's pending messages chunk by chunk; returns how many were sent.

    Each chunk is claimed ("sending") in one commit before any of it is sent, and is no bigger
    than its sender sends at once, so a crash leaves only messages already handed over
    claimed and never sends them twice. The chunk's outcomes and their report to surveys
    commit together, so a job that dies mid-batch has lost no report of what it did.
    """
    sent = 0
    with new_session() as session, opened_senders(current_app.config) as senders:
        pending = list(session.scalars(
            select(Delivery).where(Delivery.batch_id == batch_id, Delivery.status == D.PENDING)
            .order_by(Delivery.id)
        ))
        members = {}
        for chunk in _chunks([d.member_ref for d in pending], IN_CLAUSE_CHUNK):
            members.update((m.member_ref, m) for m in session.scalars(
                select(Member).where(among(session, Member.member_ref, chunk))))
        reports: list[dict] = []
        to_send = []
        for delivery in pending:
            member = members.get(delivery.member_ref)
            # Consent may have been withdrawn since the batch was recorded: STOP wins.
            refusal = may_receive(member, delivery.template) if member else D.FAILED
            if refusal:
                delivery.status = refusal
                _report(reports, delivery)
            else:
                to_send.append(delivery)
        _queue_reports(session, reports)
        session.commit()
        # A retried job follows a "not now": it waits on from where the last run stopped,
        # then tries one message before the rest.
        tried = max((d.attempts or 0 for d in to_send), default=0)
        probing = tried > 0
        wait = FIRST_BACKOFF_SECONDS * 2 ** max(tried - 1, 0)
        rounds = INLINE_ATTEMPTS
        if probing:  # one round: the waits after it are RQ's retries', longer than a job's
            time.sleep(max(0.0, min(wait, MAX_INLINE_WAIT_SECONDS) - _since_last_try(to_send)))
            rounds = 1
        for attempt in range(rounds):
            to_send, retry_after, round_sent = _send_round(session, senders, to_send, members,
                                                           probing)
            sent += round_sent
            if not to_send or attempt == rounds - 1:
                break
            # "Not now": wait as the server asked, and twice as long as last time at least.
            delay = max(wait, retry_after or 0.0)
            if delay > MAX_INLINE_WAIT_SECONDS:
                break  # longer than a job should sit idle: RQ's retry comes back later
            time.sleep(delay)
            wait *= 2
            probing = True
    if to_send:
        raise DeliveriesDeferred(f"batch {batch_id}: {len(to_send)} message(s) wait for the "
                                 "gateway or mail server")
    return sent


def _since_last_try(deliveries: list[Delivery]) -> float:
    """Seconds since any of these messages was last handed to a sender."""
    claimed = [d.claimed_at for d in deliveries if d.claimed_at is not None]
    return (utcnow() - max(claimed)).total_seconds() if claimed else float("inf")


def _send_round(session: Session, senders: dict[str, Sender], to_send: list[Delivery],
                members: dict[str, Member],
                probing: bool) -> tuple[list[Delivery], float | None, int]:
    """One pass over the messages still to send: (still to send, longest wait asked, sent).

    Once a channel's server says "not now", the rest of that channel waits for the next
    round rather than being refused too; when probing, one message goes before the rest.
    """
    waiting_all, retry_after, sent = [], None, 0
    for channel in sorted({d.channel for d in to_send}):
        sender = senders[channel]
        waiting = [d for d in to_send if d.channel == channel]
        size = 1 if probing else sender.in_flight
        while waiting:
            chunk, waiting = waiting[:size], waiting[size:]
            chunk_sent, deferred, chunk_wait = _send_chunk(session, sender, chunk, members)
            sent += chunk_sent
            if deferred:
                waiting_all.extend(deferred + waiting)
                if chunk_wait is not None:
                    retry_after = max(retry_after or 0.0, chunk_wait)
                break
            size = sender.in_flight
    return waiting_all, retry_after, sent


def _report(reports: list[dict], delivery: Delivery) -> None:
    if delivery.template not in PANEL_TEMPLATES:  # panel's own messages, not surveys'
        reports.append({"delivery_ref": delivery.delivery_ref, "status": delivery.status})


def _queue_reports(session: Session, reports: list[dict]) -> None:
    """Put the reports in the outbox, to commit with the outcomes they report."""
    if reports:
        bus().send(session, "surveys.delivery_report", {"deliveries": list(reports)})
        reports.clear()


def _claim(session: Session, chunk: list[Delivery]) -> list[Delivery]:
    """Mark the chunk's still-pending messages "sending" in one statement and commit."""
    claimed = set(session.scalars(
        update(Delivery)
        .where(among(session, Delivery.id, [d.id for d in chunk]), Delivery.status == D.PENDING)
        .values(status=D.SENDING, attempts=Delivery.attempts + 1, claimed_at=utcnow())
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)))
    session.commit()
    mine = [d for d in chunk if d.id in claimed]
    for delivery in mine:  # mirror the claim without reloading each row
        set_committed_value(delivery, "status", D.SENDING)
        set_committed_value(delivery, "attempts", (delivery.attempts or 0) + 1)
    return mine


def _send_chunk(session: Session, sender: Sender, chunk: list[Delivery],
                members: dict[str, Member]) -> tuple[int, list[Delivery], float | None]:
    """Claim, send at once, record with its report: (sent, deferred, the longest wait asked)."""
    reports: list[dict] = []
    allowed = []
    for delivery in chunk:
        # A STOP from the gateway earlier in this batch wins over the rest of it.
        refusal = may_receive(members[delivery.member_ref], delivery.template)
        if refusal:
            delivery.status = refusal
            _report(reports, delivery)
        else:
            allowed.append(delivery)
    _queue_reports(session, reports)  # committed with the claim, or with the outcomes below
    claimed = _claim(session, allowed) if allowed else []
    # Everything that needs the app or the database is worked out here, not by the sender.
    outcomes = sender.send_all([_outgoing(d, members[d.member_ref]) for d in claimed])
    deferred, retry_after = [], None
    sent = [(delivery, provider_id) for delivery, (provider_id, failure)
            in zip(claimed, outcomes, strict=True) if failure is None]
    _record_sent(session, sent, utcnow())
    for delivery, _ in sent:
        _report(reports, delivery)
    for delivery, (_, failure) in zip(claimed, outcomes, strict=True):
        member = members[delivery.member_ref]
        if failure is None:
            continue
        if isinstance(failure, TryLater):
            log.info("delivery %s deferred: %s", delivery.delivery_ref, failure)
            delivery.status, delivery.error = D.PENDING, str(failure)
            deferred.append(delivery)
            if failure.retry_after is not None:
                retry_after = max(retry_after or 0.0, failure.retry_after)
            continue
        if isinstance(failure, Unconfirmed):
            # It may have gone: never sent again by itself, listed for a person to look at.
            log.warning("delivery %s unconfirmed: %s", delivery.delivery_ref, failure)
            delivery.status, delivery.error = D.UNCONFIRMED, str(failure)
        elif isinstance(failure, RecipientOptedOut):
            # The gateway's own STOP list: honour it for every agency and channel.
            delivery.status, delivery.error = D.OPTED_OUT, str(failure)
            if member.opted_out_at is None:
                withdraw_everything(session, member, source="gateway-21610", now=utcnow())
        else:
            log.warning("delivery %s failed: %s", delivery.delivery_ref, failure)
            delivery.status, delivery.error = D.FAILED, str(failure)
        _report(reports, delivery)
    _queue_reports(session, reports)
    session.commit()
    return len(sent), deferred, retry_after


_MARK_SENT = (update(Delivery.__table__).where(Delivery.__table__.c.id == bindparam("delivery_id"))
              .values(status=D.SENT, provider_id=bindparam("provider_id"),
                      sent_at=bindparam("sent_at")))


def _record_sent(session: Session, sent: list[tuple[Delivery, str | None]],
                 now: datetime) -> None:
    """The chunk's sent messages in one executemany UPDATE (most of a chunk, usually)."""
    if not sent:
        return
    session.connection().execute(_MARK_SENT, [
        {"delivery_id": delivery.id, "provider_id": provider_id, "sent_at": now}
        for delivery, provider_id in sent])
    for delivery, provider_id in sent:  # mirror the update without reloading each row
        set_committed_value(delivery, "status", D.SENT)
        set_committed_value(delivery, "provider_id", provider_id)
        set_committed_value(delivery, "sent_at", now)


def _outgoing(delivery: Delivery, member: Member) -> Outgoing:
    email = delivery.channel == "email"
    return Outgoing(to=member.email if email else member.phone, subject=delivery.subject,
                    body=delivery.body, headers=email_headers(member) if email else None)


# Far longer than a chunk can take to send (30 s at most a message): a delivery claimed this
# long ago and still "sending" was claimed by a worker that stopped before recording it.
UNCONFIRMED_AFTER = timedelta(minutes=15)
UNCONFIRMED_ERROR = ("the sender stopped before recording what the server answered; "
                     "not sent again, so nobody gets it twice")


def sweep_unconfirmed_deliveries(now: datetime | None = None) -> int:
    """Periodic: deliveries a stopped worker left "sending" become "unconfirmed", and surveys
    hears of them. They may have gone out, so they are never sent again; a later status
    callback from the gateway still moves one on to "delivered" or "undelivered"."""
    cutoff = (now or utcnow()) - UNCONFIRMED_AFTER
    with new_session() as session:
        stuck = list(session.scalars(select(Delivery).where(
            Delivery.status == D.SENDING,
            or_(Delivery.claimed_at < cutoff,
                and_(Delivery.claimed_at.is_(None), Delivery.created_at < cutoff)))))
        reports: list[dict] = []
        for delivery in stuck:
            delivery.status, delivery.error = D.UNCONFIRMED, UNCONFIRMED_ERROR
            _report(reports, delivery)
        if reports:
            bus().send(session, "surveys.delivery_report", {"deliveries": reports})
        session.commit()
    if stuck:
        log.warning("%d deliveries left sending by a stopped worker are now unconfirmed",
                    len(stuck))
    return len(stuck)
