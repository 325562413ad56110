"""The message bus: an outbox written in the caller's transaction, a relay to RQ, an inbox.

A request never enqueues: it writes to its service's outbox in the same
transaction as the change that caused the message. The relay pushes pending
rows to Redis and marks them sent, so Redis being down delays messages and
never loses them. Handlers record each message_id in the inbox in the same
transaction as their effect, so a repeated delivery has no second effect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.serializers import JSONSerializer
from sqlalchemy import Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import UtcDateTime
from shared.messages import build_message, message_type, read_message

log = logging.getLogger(__name__)

FAILURE_TTL_SECONDS = 7 * 24 * 3600
RESULT_TTL_SECONDS = 24 * 3600
JOB_TIMEOUT_SECONDS = 600
# The first retry is at once: it is also how RQ hands back the job of a dead worker, which
# must not wait for a scheduler (a dead worker's scheduler lock lapses only after a minute).
RETRY = Retry(max=5, interval=[0, 30, 120, 600, 1800])


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxMixin:
    """Columns of a service's outbox table."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime, nullable=True, index=True
    )


class InboxMixin:
    """Columns of a service's inbox table: one row per message already handled."""

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def queue_for(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer)


class Bus:
    """One service's outbox and inbox models, bound to its Redis connection."""

    def __init__(self, outbox_model: type, inbox_model: type, redis: Redis):
        self.outbox_model = outbox_model
        self.inbox_model = inbox_model
        self.redis = redis

    def send(self, session: Session, name: str, payload: dict) -> str:
        """Write a message to the outbox; it leaves when the caller's transaction commits."""
        envelope = build_message(name, payload)
        session.add(
            self.outbox_model(
                message_id=envelope["message_id"], type=name, body=json.dumps(envelope)
            )
        )
        return envelope["message_id"]

    def relay(self, session: Session, limit: int = 500) -> int:
        """Push pending outbox rows to their queues and mark them sent; returns how many.

        The rows are claimed first, marked sent by one UPDATE in a transaction that commits
        only once Redis has them: a second relay at the same moment skips them (PostgreSQL's
        SKIP LOCKED) or waits for the claim and finds them sent (SQLite's write lock), so no
        message is pushed twice. When Redis is unreachable the claim is rolled back, and the
        rows wait for the next pass.
        """
        outbox = self.outbox_model
        pending = select(outbox.id).where(outbox.sent_at.is_(None)).order_by(outbox.id) \
            .limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            pending = pending.with_for_update(skip_locked=True)
        claimed = sorted(session.execute(
            update(outbox).where(outbox.id.in_(pending.scalar_subquery()))
            .values(sent_at=utcnow())
            .returning(outbox.id, outbox.message_id, outbox.type, outbox.body)).all())
        if not claimed:
            session.rollback()
            return 0
        try:
            with self.redis.pipeline() as pipe:
                for _id, message_id, name, body in claimed:
                    kind = message_type(name)
                    queue_for(kind.queue, self.redis).enqueue_call(
                        func=kind.job_path,
                        args=(json.loads(body),),
                        job_id=message_id,
                        retry=RETRY,
                        timeout=JOB_TIMEOUT_SECONDS,
                        failure_ttl=FAILURE_TTL_SECONDS,
                        result_ttl=RESULT_TTL_SECONDS,
                        pipeline=pipe,
                    )
                pipe.execute()
        except RedisError as exc:
            session.rollback()
            log.warning("outbox relay: Redis unavailable, %d message(s) wait: %s",
                        len(claimed), exc)
            return 0
        session.commit()
        return len(claimed)

    def pending(self, session: Session) -> int:
        return session.scalar(
            select(func.count()).select_from(self.outbox_model).where(
                self.outbox_model.sent_at.is_(None)
            )
        )

    def handle(
        self, session: Session, name: str, envelope: dict, effect: Callable[[Session, dict], None]
    ) -> bool:
        """Apply a message's effect once: False when this message_id was handled before.

        The inbox row and the effect commit together; a concurrent duplicate fails
        on the inbox's primary key and rolls back, and its retry finds the row.
        """
        message = read_message(name, envelope)
        message_id = str(message["message_id"])
        if session.get(self.inbox_model, message_id) is not None:
            session.rollback()
            return False
        session.add(self.inbox_model(message_id=message_id, type=name))
        session.flush()
        effect(session, message["payload"])
        session.commit()
        return True
