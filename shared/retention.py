"""How long the bus tables keep what they no longer need: sent outbox rows and inbox rows.

A sent outbox row is only history once Redis holds its job. An inbox row must outlive every
way its message can arrive again: RQ's retries (under an hour) and a failed job requeued by
hand while RQ keeps it (`FAILURE_TTL_SECONDS`, 7 days). Keeping both for `RETENTION_DAYS`
(at least that failure TTL, checked in shared/config.py) keeps the tables from growing with
every message the platform ever sent, without ever letting a message apply twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.bus import Bus, utcnow
from shared.db import new_session


def prune_bus_tables(session: Session, bus: Bus, *, now: datetime, keep: timedelta
                     ) -> dict[str, int]:
    """Delete outbox rows sent, and inbox rows received, more than `keep` before `now`."""
    cutoff = now - keep
    outbox, inbox = bus.outbox_model, bus.inbox_model
    sent = session.execute(delete(outbox).where(outbox.sent_at.is_not(None),
                                                outbox.sent_at < cutoff)).rowcount
    received = session.execute(delete(inbox).where(inbox.received_at < cutoff)).rowcount
    return {"outbox": sent, "inbox": received}


def prune_bus(now: datetime | None = None) -> dict[str, int]:
    """Periodic, in every service: prune its own bus tables past RETENTION_DAYS."""
    with new_session() as session:
        pruned = prune_bus_tables(session, current_app.extensions["bus"], now=now or utcnow(),
                                  keep=timedelta(days=current_app.config["RETENTION_DAYS"]))
        session.commit()
    return pruned
