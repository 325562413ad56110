"""How long surveys keeps finished export files: the audit log keeps the pull for good."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.surveys.models import ExportJob
from shared.bus import utcnow
from shared.db import new_session
from shared.statuses import ExportStatus


def prune_exports(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Delete exports (and their files) that finished more than `keep` before `now`."""
    return session.execute(delete(ExportJob).where(
        ExportJob.status.in_((ExportStatus.DONE, ExportStatus.FAILED)),
        ExportJob.finished_at < now - keep)).rowcount


def prune_finished_exports(now: datetime | None = None) -> int:
    """Periodic: respondent-level files are not kept past RETENTION_DAYS."""
    with new_session() as session:
        pruned = prune_exports(session, now=now or utcnow(),
                               keep=timedelta(days=current_app.config["RETENTION_DAYS"]))
        session.commit()
    return pruned
