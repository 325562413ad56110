"""Giving back contact-cap slots a draw reserved for members surveys then did not invite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.panel.contact_cap import ContactCap, free_at
from services.panel.models import ContactEvent, Member
from shared.db import among

IN_CHUNK = 1000


def give_back_contacts(session: Session, *, survey_id: int, draw_id: str | None,
                       member_refs: list[str], cap: ContactCap) -> int:
    """Remove the draw's contact events of these members and recompute their cap from the rest.

    Returns how many contact events were removed. Only this draw's events go: an invitation
    the member had from an earlier draw of the same survey still counts.
    """
    member_ids: list[int] = []
    for start in range(0, len(member_refs), IN_CHUNK):
        member_ids += session.scalars(select(Member.id).where(
            among(session, Member.member_ref, member_refs[start:start + IN_CHUNK])))
    same_draw = ContactEvent.draw_id.is_(None) if draw_id is None \
        else ContactEvent.draw_id == draw_id
    removed = 0
    for start in range(0, len(member_ids), IN_CHUNK):
        removed += session.execute(delete(ContactEvent).where(
            ContactEvent.survey_id == survey_id, same_draw,
            among(session, ContactEvent.member_id, member_ids[start:start + IN_CHUNK]))
            .execution_options(synchronize_session=False)).rowcount
    recompute_cap(session, member_ids, cap)
    return removed


def recompute_cap(session: Session, member_ids: list[int], cap: ContactCap) -> None:
    """Set last_contacted_at and cap_free_at of these members from their contact log alone."""
    for start in range(0, len(member_ids), IN_CHUNK):
        chunk = member_ids[start:start + IN_CHUNK]
        times: dict[int, list[datetime]] = {i: [] for i in chunk}
        for member_id, at in session.execute(
                select(ContactEvent.member_id, ContactEvent.contacted_at)
                .where(among(session, ContactEvent.member_id, chunk))):
            times[member_id].append(at)
        by_value: dict[tuple[datetime | None, datetime | None], list[int]] = {}
        for member_id, invited_at in times.items():
            value = (max(invited_at) if invited_at else None, free_at(cap, invited_at))
            by_value.setdefault(value, []).append(member_id)
        for (last, free), ids in by_value.items():
            session.execute(update(Member).where(among(session, Member.id, ids))
                            .values(last_contacted_at=last, cap_free_at=free)
                            .execution_options(synchronize_session=False))
