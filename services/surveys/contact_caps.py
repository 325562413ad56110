"""Surveys' copy of panel's per-area counts of members resting under the contact cap: what the
partnership calendar shows of how tired the panel is in each area."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.surveys.models import AreaContactCap


def replace_cap_counts(session: Session, payload: dict) -> None:
    """Keep the newest count only: a count older than the one kept (a message arriving late)
    changes nothing; an area missing from a newer count has no one left to invite."""
    kept = session.scalar(select(func.max(AreaContactCap.measured_at)))
    if kept is not None and kept >= payload["measured_at"]:
        return
    session.execute(delete(AreaContactCap))
    session.add_all(AreaContactCap(
        area=area["area"], members=area["members"], at_cap=area["at_cap"],
        next_free_at=area["next_free_at"], all_free_at=area["all_free_at"],
        measured_at=payload["measured_at"]) for area in payload["areas"])


def cap_counts(session: Session) -> list[AreaContactCap]:
    return list(session.scalars(select(AreaContactCap).order_by(AreaContactCap.area)))
