"""How tired the panel is, per area: panel counts the members resting under the contact cap and
sends the counts to surveys, whose partnership calendar shows them to officers planning where
to survey next. Only counts leave panel, never who."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from services.panel.models import Member
from shared.bus import Bus
from shared.db import UtcDateTime


def cap_counts(session: Session, now: datetime) -> list[dict]:
    """Per area with anyone who may be invited at all (active, consenting, not opted out): how
    many, how many rest under the cap now, and when the first and the last are free again."""
    resting = Member.cap_free_at > now
    rows = session.execute(
        select(Member.area, func.count(),
               func.coalesce(func.sum(case((resting, 1), else_=0)), 0),
               # Read back as the column is, aware in UTC (SQLite's min() is bare text).
               type_coerce(func.min(case((resting, Member.cap_free_at))), UtcDateTime()),
               type_coerce(func.max(case((resting, Member.cap_free_at))), UtcDateTime()))
        .where(Member.status == "active", Member.consent_surveys.is_(True),
               Member.opted_out_at.is_(None))
        .group_by(Member.area).order_by(Member.area))
    return [{"area": area, "members": members, "at_cap": int(at_cap), "next_free_at": first,
             "all_free_at": last} for area, members, at_cap, first, last in rows]


def publish_cap_counts(session: Session, bus: Bus, now: datetime) -> int:
    """Send surveys this moment's counts; how many areas they cover."""
    areas = cap_counts(session, now)
    bus.send(session, "surveys.contact_cap_counts", {"measured_at": now, "areas": areas})
    session.commit()
    return len(areas)
