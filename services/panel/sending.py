"""Panel's delivery engine: a batch recorded once, then sent chunk by chunk, each chunk claimed
before it goes, so no retry, crash or second worker ever sends anyone a message twice; and the
sweep of what a stopped worker left "sending".

The engine works on plain rows, not ORM objects (a launch sends 100,000 messages): each
chunk's outcomes go in as one statement, in the same commit as the next chunk's claim, and
every outcome is marked `unreported` until a report to surveys carrying it is in the outbox.
That report goes once a round of sending (a batch, usually), in one commit with the marks
cleared, so surveys hears of each outcome exactly once; a run that stopped before reporting
leaves its outcomes marked, and the next run of the batch, or the sweep, reports them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from services.panel.consent import may_receive, member_token, withdraw_everything
from services.panel.delivery import (
    Outgoing,
    RecipientOptedOut,
    Sender,
    TryLater,
    Unconfirmed,
    kept_senders,
)
from services.panel.messaging import PANEL_TEMPLATES, BatchRenderer
from services.panel.models import Delivery, Member
from shared.bus import utcnow
from shared.db import among, insert_rows, new_session, update_rows
from shared.service import bus
from shared.statuses import DeliveryStatus as D

log = logging.getLogger(__name__)

IN_CLAUSE_CHUNK = 1000
INLINE_ATTEMPTS = 4  # rounds of sending within a job run before the job itself retries
FIRST_BACKOFF_SECONDS = 0.25  # the wait after a first "not now", doubled after each next one
MAX_INLINE_WAIT_SECONDS = 5.0

DELIVERIES = Delivery.__table__
# What sending needs of a member: never the whole row.
MEMBER_COLUMNS = (Member.member_ref, Member.preferred_channel, Member.language, Member.status,
                  Member.opted_out_at, Member.consent_surveys, Member.consent_outcomes,
                  Member.email, Member.phone)


class DeliveriesDeferred(RuntimeError):
    """Some messages could not be handed on yet; RQ retries the job, which sends only those."""


@dataclass(slots=True)
class Message:
    """One pending delivery as the engine carries it: its row's columns, and what became of it."""

    id: int
    delivery_ref: str
    member_ref: str
    template: str
    channel: str
    subject: str
    body: str
    attempts: int
    claimed_at: datetime | None
    status: str = D.PENDING
    error: str | None = None

    @property
    def reported_to_surveys(self) -> bool:
        return self.template not in PANEL_TEMPLATES  # panel's own messages, not surveys'


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
        bus().handle(session, "panel.deliver", envelope,
                     lambda session, payload: _record_batch(session, payload, batch_id))
    return send_batch(batch_id)


def members_by_ref(session: Session, refs) -> dict:
    """The members sending needs, as rows (member_ref, channel, language, consent, contacts)."""
    members = {}
    for chunk in _chunks(list(refs), IN_CLAUSE_CHUNK):
        members.update((row.member_ref, row) for row in session.execute(
            select(*MEMBER_COLUMNS).where(among(session, Member.member_ref, chunk))))
    return members


def _record_batch(session: Session, payload: dict, batch_id: str) -> None:
    recipients = payload["recipients"]
    members = members_by_ref(session, {str(r["member_ref"]) for r in recipients})
    already = set()
    for chunk in _chunks([r["delivery_ref"] for r in recipients], IN_CLAUSE_CHUNK):
        already.update(session.scalars(select(Delivery.delivery_ref).where(
            among(session, Delivery.delivery_ref, chunk))))
    template = payload["template"]
    renderer = BatchRenderer(template, payload["context"])
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
        subject, body = renderer.render(
            channel, recipient.get("link"), language=member.language, text=recipient.get("text"),
            unsubscribe=unsubscribe_url(member) if channel == "email" else "")
        status = may_receive(member, template) or D.PENDING
        rows.append({"delivery_ref": recipient["delivery_ref"], "batch_id": batch_id,
                     "member_ref": member.member_ref, "template": template, "channel": channel,
                     "subject": subject[:200], "body": body, "status": status})
        if status != D.PENDING:
            reports.append({"delivery_ref": recipient["delivery_ref"], "status": status})
    insert_rows(session, DELIVERIES, rows)
    if reports:
        bus().send(session, "surveys.delivery_report", {"deliveries": reports})


def unsubscribe_url(member) -> str:
    token = member_token(current_app.config["SECRET_KEY"], member.member_ref)
    return f"{current_app.config['PANEL_URL'].rstrip('/')}/u/{token}"


def email_headers(member) -> dict[str, str]:
    """RFC 2369 / RFC 8058 one-click unsubscribe, on every email."""
    url = unsubscribe_url(member)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


_PENDING_COLUMNS = (DELIVERIES.c.id, DELIVERIES.c.delivery_ref, DELIVERIES.c.member_ref,
                    DELIVERIES.c.template, DELIVERIES.c.channel, DELIVERIES.c.subject,
                    DELIVERIES.c.body, DELIVERIES.c.attempts, DELIVERIES.c.claimed_at)


class _Run:
    """One run of a batch: its session and senders, its members, the STOPs it met."""

    def __init__(self, session: Session, senders: dict[str, Sender], members: dict):
        self.session, self.senders, self.members = session, senders, members
        self.opted_out: set[str] = set()  # members the gateway said sent STOP, in this run

    def refusal(self, message: Message) -> str | None:
        """Why this message may not go now (consent withdrawn since, a STOP), or None."""
        member = self.members.get(message.member_ref)
        if member is None:
            return D.FAILED
        if message.member_ref in self.opted_out:
            return D.OPTED_OUT
        return may_receive(member, message.template)


def send_batch(batch_id: str) -> int:
    """Send the batch's pending messages chunk by chunk; returns how many were sent.

    Each chunk is claimed ("sending") in one commit before any of it is sent, and is no bigger
    than its sender sends at once, so a crash leaves only messages already handed over
    claimed and never sends them twice. A chunk's outcomes commit with the next chunk's claim
    (or at the end of the round), marked unreported; the round's report to surveys commits
    with the marks cleared, so a job that dies mid-batch has lost no report of what it did.
    """
    sent = 0
    senders = kept_senders(current_app.config)
    with new_session() as session:
        report_outcomes(session, batch_id)  # what a run that stopped early did not report
        pending = [Message(*row) for row in session.execute(
            select(*_PENDING_COLUMNS).where(DELIVERIES.c.batch_id == batch_id,
                                            DELIVERIES.c.status == D.PENDING)
            .order_by(DELIVERIES.c.id))]
        run = _Run(session, senders, members_by_ref(session, {m.member_ref for m in pending}))
        refused, to_send = [], []
        for message in pending:
            # Consent may have been withdrawn since the batch was recorded: STOP wins.
            message.status = run.refusal(message) or D.PENDING
            (refused if message.status != D.PENDING else to_send).append(message)
        _record_outcomes(session, refused)
        report_outcomes(session, batch_id)
        session.commit()
        # A retried job follows a "not now": it waits on from where the last run stopped,
        # then tries one message before the rest.
        tried = max((m.attempts or 0 for m in to_send), default=0)
        probing = tried > 0
        wait = FIRST_BACKOFF_SECONDS * 2 ** max(tried - 1, 0)
        rounds = INLINE_ATTEMPTS
        if probing:  # one round: the waits after it are RQ's retries', longer than a job's
            time.sleep(max(0.0, min(wait, MAX_INLINE_WAIT_SECONDS) - _since_last_try(to_send)))
            rounds = 1
        for attempt in range(rounds):
            to_send, retry_after, round_sent = _send_round(run, to_send, probing)
            report_outcomes(session, batch_id)
            session.commit()
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


def _since_last_try(messages: list[Message]) -> float:
    """Seconds since any of these messages was last handed to a sender."""
    claimed = [m.claimed_at for m in messages if m.claimed_at is not None]
    return (utcnow() - max(claimed)).total_seconds() if claimed else float("inf")


def _send_round(run: _Run, to_send: list[Message],
                probing: bool) -> tuple[list[Message], float | None, int]:
    """One pass over the messages still to send: (still to send, longest wait asked, sent).

    Once a channel's server says "not now", the rest of that channel waits for the next
    round rather than being refused too; when probing, one message goes before the rest.
    The last chunk's outcomes are left for the caller to commit.
    """
    waiting_all, retry_after, sent = [], None, 0
    for channel in sorted({m.channel for m in to_send}):
        sender = run.senders[channel]
        waiting = [m for m in to_send if m.channel == channel]
        size = 1 if probing else sender.in_flight
        while waiting:
            chunk, waiting = waiting[:size], waiting[size:]
            chunk_sent, deferred, chunk_wait = _send_chunk(run, sender, chunk)
            sent += chunk_sent
            if deferred:
                waiting_all.extend(deferred + waiting)
                if chunk_wait is not None:
                    retry_after = max(retry_after or 0.0, chunk_wait)
                break
            size = sender.in_flight
    return waiting_all, retry_after, sent


def report_outcomes(session: Session, batch_id: str | None = None,
                    before: datetime | None = None) -> int:
    """Put one report of the outcomes still unreported (of a batch, or recorded before a
    moment) in the outbox and clear their marks, in the caller's transaction; how many."""
    where = [DELIVERIES.c.unreported.is_(True)]
    if batch_id is not None:
        where.append(DELIVERIES.c.batch_id == batch_id)
    if before is not None:
        where.append(or_(DELIVERIES.c.claimed_at < before,
                         and_(DELIVERIES.c.claimed_at.is_(None), DELIVERIES.c.created_at < before)))
    told = sorted(session.execute(
        update(DELIVERIES).where(*where).values(unreported=False)
        .returning(DELIVERIES.c.id, DELIVERIES.c.delivery_ref, DELIVERIES.c.status)).all())
    if told:
        bus().send(session, "surveys.delivery_report", {"deliveries": [
            {"delivery_ref": delivery_ref, "status": status} for _, delivery_ref, status in told]})
    return len(told)


def _claim(session: Session, chunk: list[Message]) -> list[Message]:
    """Mark the chunk's still-pending messages "sending" in one statement and commit (with
    the previous chunk's outcomes)."""
    claimed = set(session.scalars(
        update(DELIVERIES)
        .where(among(session, DELIVERIES.c.id, [m.id for m in chunk]),
               DELIVERIES.c.status == D.PENDING)
        .values(status=D.SENDING, attempts=DELIVERIES.c.attempts + 1, claimed_at=utcnow())
        .returning(DELIVERIES.c.id)))
    session.commit()
    mine = [m for m in chunk if m.id in claimed]
    for message in mine:
        message.status, message.attempts = D.SENDING, (message.attempts or 0) + 1
    return mine


def _send_chunk(run: _Run, sender: Sender,
                chunk: list[Message]) -> tuple[int, list[Message], float | None]:
    """Claim, send at once, record (uncommitted): (sent, deferred, the longest wait asked)."""
    session = run.session
    refused, allowed = [], []
    for message in chunk:
        # A STOP from the gateway earlier in this batch wins over the rest of it.
        refusal = run.refusal(message)
        if refusal:
            message.status = refusal
            refused.append(message)
        else:
            allowed.append(message)
    _record_outcomes(session, refused)  # committed with the claim, or with the round
    claimed = _claim(session, allowed) if allowed else []
    # Everything that needs the app or the database is worked out here, not by the sender.
    outcomes = sender.send_all([_outgoing(m, run.members[m.member_ref]) for m in claimed])
    sent, others, deferred, retry_after = [], [], [], None
    for message, (provider_id, failure) in zip(claimed, outcomes, strict=True):
        if failure is None:
            sent.append((message, provider_id))
            continue
        others.append(message)
        if isinstance(failure, TryLater):
            log.info("delivery %s deferred: %s", message.delivery_ref, failure)
            message.status, message.error = D.PENDING, str(failure)
            deferred.append(message)
            if failure.retry_after is not None:
                retry_after = max(retry_after or 0.0, failure.retry_after)
        elif isinstance(failure, Unconfirmed):
            # It may have gone: never sent again by itself, listed for a person to look at.
            log.warning("delivery %s unconfirmed: %s", message.delivery_ref, failure)
            message.status, message.error = D.UNCONFIRMED, str(failure)
        elif isinstance(failure, RecipientOptedOut):
            # The gateway's own STOP list: honour it for every agency and channel.
            message.status, message.error = D.OPTED_OUT, str(failure)
            _withdraw(run, message.member_ref)
        else:
            log.warning("delivery %s failed: %s", message.delivery_ref, failure)
            message.status, message.error = D.FAILED, str(failure)
    _record_sent(session, sent, utcnow())
    _record_outcomes(session, others)
    return len(sent), deferred, retry_after


def _withdraw(run: _Run, member_ref: str) -> None:
    """The gateway says this member sent STOP: every consent withdrawn, once."""
    if member_ref in run.opted_out:
        return
    run.opted_out.add(member_ref)
    member = run.session.scalar(select(Member).where(Member.member_ref == member_ref))
    if member is not None and member.opted_out_at is None:
        withdraw_everything(run.session, member, source="gateway-21610", now=utcnow())
        run.session.flush()


def _record_outcomes(session: Session, messages: list[Message]) -> None:
    """Messages refused, failed, unconfirmed or put back for later, in one statement (a few
    a batch, usually)."""
    update_rows(session, DELIVERIES, [
        {"id": m.id, "status": m.status, "error": m.error,
         "unreported": m.status != D.PENDING and m.reported_to_surveys} for m in messages])


def _record_sent(session: Session, sent: list[tuple[Message, str | None]],
                 now: datetime) -> None:
    """The chunk's sent messages (most of a chunk, usually) in one statement."""
    for message, _ in sent:
        message.status = D.SENT
    update_rows(session, DELIVERIES, [
        {"id": m.id, "provider_id": provider_id, "unreported": m.reported_to_surveys}
        for m, provider_id in sent], status=D.SENT, sent_at=now)


def _outgoing(message: Message, member) -> Outgoing:
    email = message.channel == "email"
    return Outgoing(to=member.email if email else member.phone, subject=message.subject,
                    body=message.body, headers=email_headers(member) if email else None)


# Far longer than a chunk can take to send (30 s at most a message): a delivery claimed this
# long ago and still "sending" was claimed by a worker that stopped before recording it.
UNCONFIRMED_AFTER = timedelta(minutes=15)
UNCONFIRMED_ERROR = ("the sender stopped before recording what the server answered; "
                     "not sent again, so nobody gets it twice")


def sweep_unconfirmed_deliveries(now: datetime | None = None) -> int:
    """Periodic: deliveries a stopped worker left "sending" become "unconfirmed", and surveys
    hears of them. They may have gone out, so they are never sent again; a later status
    callback from the gateway still moves one on to "delivered" or "undelivered". Outcomes a
    stopped run recorded and never reported (and no later run of their batch did) go in the
    same report."""
    cutoff = (now or utcnow()) - UNCONFIRMED_AFTER
    with new_session() as session:
        stuck = list(session.scalars(select(Delivery).where(
            Delivery.status == D.SENDING,
            or_(Delivery.claimed_at < cutoff,
                and_(Delivery.claimed_at.is_(None), Delivery.created_at < cutoff)))))
        for delivery in stuck:
            delivery.status, delivery.error = D.UNCONFIRMED, UNCONFIRMED_ERROR
            delivery.unreported = delivery.template not in PANEL_TEMPLATES
        session.flush()
        report_outcomes(session, before=cutoff)
        session.commit()
    if stuck:
        log.warning("%d deliveries left sending by a stopped worker are now unconfirmed",
                    len(stuck))
    return len(stuck)
