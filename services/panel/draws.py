"""Drawing a sample from the database: eligible candidates, quota cells, atomic reservation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.panel.contact_cap import ContactCap, free_at, is_free
from services.panel.models import AgencyOptOut, ContactEvent, Member, profile_of
from services.panel.quotas import (
    cell_categories,
    cell_label,
    cells_from_codes,
    proportional_cells,
)
from services.panel.sampling import rank_within_cells
from services.panel.targets import margins_from_db
from shared.bus import Bus
from shared.db import among, insert_rows
from shared.messages import PROFILE_DIMENSIONS

RESERVE_FACTOR = 2  # ranked spares per cell, for members lost at reservation
IN_CHUNK = 1000
_EPOCH = datetime(1970, 1, 1).date()


@dataclass
class DrawResult:
    member_ids: list[int]
    cells: list[dict] = field(default_factory=list)
    shortfall: int = 0


def eligible(now: datetime, sponsors: Sequence[str]):
    """Who may be invited at all: active, consenting, not opted out, under the cap."""
    return and_(
        Member.status == "active",
        Member.consent_surveys.is_(True),
        Member.opted_out_at.is_(None),
        or_(Member.cap_free_at.is_(None), Member.cap_free_at <= now),
        ~exists().where(AgencyOptOut.member_id == Member.id,
                        AgencyOptOut.agency.in_(list(sponsors))),
    )


def profile_filters(payload: dict) -> list:
    """The request's filters on the profile (e.g. its areas), as clauses."""
    clauses = []
    for dim, values in (payload.get("filters") or {}).items():
        if dim in PROFILE_DIMENSIONS:
            wanted = [int(v) if dim == "deprivation_decile" else str(v) for v in values]
            clauses.append(getattr(Member, dim).in_(wanted))
    return clauses


def request_channels(payload: dict) -> list[str]:
    return list(payload.get("channels") or ("email", "sms"))


def _request_filters(payload: dict):
    return [*profile_filters(payload), Member.preferred_channel.in_(request_channels(payload))]


def quota_cells(session: Session, payload: dict) -> list[dict]:
    if payload.get("quotas"):
        return [{"cell": {k: str(v) for k, v in q["cell"].items()}, "target": q["target"]}
                for q in payload["quotas"]]
    if payload.get("proportional_dimensions"):
        areas = (payload.get("filters") or {}).get("area")
        cells = proportional_cells(margins_from_db(session),
                                   payload["proportional_dimensions"], payload["size"],
                                   [str(a) for a in areas] if areas else None)
        # No targets for these areas yet: draw without quotas rather than draw nobody.
        if cells and sum(c["target"] for c in cells):
            return cells
    return [{"cell": {}, "target": payload["size"]}]


def load_candidates(session: Session, payload: dict, cells: list[dict], dims: list[str],
                    categories: list[list[str]], now: datetime
                    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Eligible members as arrays: ids, day of last invitation (0 = never), and for each
    quota dimension the index of the member's value among the cells' values (-1 = other)."""
    where = [eligible(now, payload["sponsors"]), *_request_filters(payload)]
    excluded = [str(r) for r in payload.get("exclude_member_refs") or []]
    if excluded:
        where.append(Member.member_ref.not_in(excluded))
    # Members in no cell cannot be drawn: leave them in the database.
    for dim, cats in zip(dims, categories, strict=True):
        if all(dim in c for c in cells):
            where.append(dimension_text(dim).in_(cats))
    if session.get_bind().dialect.name == "postgresql":
        return _load_grouped(session, where, dims, categories)
    rows = session.execute(select(Member.id, Member.last_contacted_at,
                                  *[dimension_text(d) for d in dims])
                           .where(*where).order_by(Member.id)).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    recency = np.fromiter(
        ((r[1].date() - _EPOCH).days if r[1] is not None else 0 for r in rows),
        dtype=np.int64, count=len(rows))
    lookups = [{v: i for i, v in enumerate(cats)} for cats in categories]
    codes = [np.fromiter((lookups[i].get(r[2 + i], -1) for r in rows), dtype=np.int32,
                         count=len(rows)) for i in range(len(dims))]
    return ids, recency, codes


def dimension_text(dim: str):
    column = getattr(Member, dim)
    return cast(column, String) if dim == "deprivation_decile" else column


def _load_grouped(session: Session, where: list, dims: list[str],
                  categories: list[list[str]]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """PostgreSQL: one row per combination of the quota dimensions, carrying the ids and the
    day of last invitation of its members as two integer arrays; no Python object per
    member's strings, and the server only scans and hashes."""
    day = func.coalesce(cast(Member.last_contacted_at, Date) - literal_column("DATE '1970-01-01'"),
                        0)
    columns = [dimension_text(d) for d in dims]
    query = select(*columns, func.array_agg(Member.id), func.array_agg(day)).where(*where)
    if columns:
        query = query.group_by(*columns)
    lookups = [{v: i for i, v in enumerate(cats)} for cats in categories]
    id_parts, day_parts, code_parts = [], [], [[] for _ in dims]
    for row in session.execute(query):
        ids = np.array(row[len(dims)] or [], dtype=np.int64)
        id_parts.append(ids)
        day_parts.append(np.array(row[len(dims) + 1] or [], dtype=np.int64))
        for i, lookup in enumerate(lookups):
            code_parts[i].append(np.full(ids.size, lookup.get(row[i], -1), dtype=np.int32))
    if not id_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), [np.empty(0, np.int32)
                                                              for _ in dims]
    ids = np.concatenate(id_parts)
    # Members in id order, whatever order the server aggregated them in: same seed, same draw.
    order = np.argsort(ids, kind="stable")
    return (ids[order], np.concatenate(day_parts)[order],
            [np.concatenate(parts)[order] for parts in code_parts])

def draw(session: Session, payload: dict, cap: ContactCap, now: datetime) -> DrawResult:
    """Choose, reserve and log the members of one draw; the caller commits."""
    cells = quota_cells(session, payload)
    dims = sorted({d for c in cells for d in c["cell"]})
    categories = cell_categories([c["cell"] for c in cells], dims)
    ids, recency, codes = load_candidates(session, payload, [c["cell"] for c in cells], dims,
                                          categories, now)
    cell_of = cells_from_codes(codes, categories, dims, [c["cell"] for c in cells]) \
        if dims else np.zeros(len(ids), dtype=np.int32)
    targets = np.array([c["target"] for c in cells], dtype=np.int64)
    seed = payload["seed"] if payload.get("seed") is not None else payload["survey_id"]
    ranked = rank_within_cells(cell_of, recency, ids, targets * RESERVE_FACTOR + 5, seed)
    queues = [[int(i) for i in ids[order]] for order in ranked]
    reserved = reserve(session, queues, [c["target"] for c in cells], cap, now)
    chosen: list[int] = []
    cell_names: dict[int, str] = {}
    drawn_per_cell = []
    for cell, got in zip(cells, reserved, strict=True):
        drawn_per_cell.append(len(got))
        chosen += got
        cell_names.update((member_id, cell_label(cell["cell"])) for member_id in got)
    log_contacts(session, chosen, payload, cell_names, cap, now)
    shortfalls = [max(0, c["target"] - d) for c, d in zip(cells, drawn_per_cell, strict=True)]
    reasons = shortfall_reasons(session, payload, cells, shortfalls, cap, now) \
        if any(shortfalls) else {}
    outcome = [
        {"cell": c["cell"], "target": c["target"], "drawn": d, "shortfall": s,
         "reason": reasons.get(i)}
        for i, (c, d, s) in enumerate(zip(cells, drawn_per_cell, shortfalls, strict=True))
    ]
    explicit = bool(payload.get("quotas") or payload.get("proportional_dimensions"))
    return DrawResult(member_ids=chosen, cells=outcome if explicit else [],
                      shortfall=max(0, payload["size"] - len(chosen)))


def reserve(session: Session, queues: list[list[int]], targets: list[int], cap: ContactCap,
            now: datetime) -> list[list[int]]:
    """Take each cell's members in queue order until its target are reserved, all under the cap.

    On PostgreSQL the rows are locked (FOR UPDATE, in id order) and read as committed when
    the lock is granted, so a member a concurrent draw reserved first is seen resting and
    skipped; the next member of the same cell replaces them in the following round.
    """
    got: list[list[int]] = [[] for _ in queues]
    positions = [0] * len(queues)
    postgres = session.get_bind().dialect.name == "postgresql"
    while True:
        wanted: dict[int, int] = {}  # member id -> cell
        for cell, queue in enumerate(queues):
            need = targets[cell] - len(got[cell])
            take = queue[positions[cell]:positions[cell] + max(0, need)]
            positions[cell] += len(take)
            wanted.update((member_id, cell) for member_id in take)
        if not wanted:
            return got
        ordered = sorted(wanted)
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[start:start + IN_CHUNK]
            query = select(Member.id, Member.status, Member.consent_surveys,
                           Member.opted_out_at, Member.cap_free_at).where(
                               among(session, Member.id, chunk))
            if postgres:
                query = query.order_by(Member.id).with_for_update(of=Member)
            for m in session.execute(query):
                if m.status == "active" and m.consent_surveys and m.opted_out_at is None \
                        and is_free(m.cap_free_at, now):
                    got[wanted[m.id]].append(m.id)
        # Keep each cell's draw order (the lock query returned them in id order).
        rank = {member_id: i for queue in queues for i, member_id in enumerate(queue)}
        got = [sorted(cell_got, key=rank.__getitem__) for cell_got in got]


def log_contacts(session: Session, member_ids: list[int], payload: dict,
                 cell_names: dict[int, str], cap: ContactCap, now: datetime) -> None:
    if not member_ids:
        return
    sponsors = ",".join(payload["sponsors"])[:400]
    insert_rows(session, ContactEvent.__table__, [
        {"member_id": i, "survey_id": payload["survey_id"], "draw_id": payload.get("draw_id"),
         "sponsors": sponsors, "cell": cell_names.get(i, "")[:400], "contacted_at": now}
        for i in member_ids])
    refresh_cap(session, member_ids, cap, now)


def refresh_cap(session: Session, member_ids: list[int], cap: ContactCap, now: datetime) -> None:
    """Set last_contacted_at and cap_free_at of members just invited, from the contact log."""
    since = now - cap.window
    by_free_at: dict[datetime, list[int]] = {}
    for start in range(0, len(member_ids), IN_CHUNK):
        chunk = member_ids[start:start + IN_CHUNK]
        times: dict[int, list[datetime]] = {i: [] for i in chunk}
        for member_id, at in session.execute(
                select(ContactEvent.member_id, ContactEvent.contacted_at)
                .where(among(session, ContactEvent.member_id, chunk),
                       ContactEvent.contacted_at > since)):
            times[member_id].append(at)
        for member_id in chunk:
            by_free_at.setdefault(free_at(cap, times[member_id] or [now]), []).append(member_id)
    # Most members share one value (now + the gap): one UPDATE per value, not per member.
    for value, ids in by_free_at.items():
        for start in range(0, len(ids), IN_CHUNK):
            session.execute(update(Member).where(among(session, Member.id,
                                                       ids[start:start + IN_CHUNK]))
                            .values(last_contacted_at=now, cap_free_at=value)
                            .execution_options(synchronize_session=False))


def shortfall_reasons(session: Session, payload: dict, cells: list[dict], shortfalls: list[int],
                      cap: ContactCap, now: datetime) -> dict[int, str]:
    """Why each short cell is short, from counts of the cell's members by what stops them."""
    reasons = {}
    opted_out_of_sponsor = exists().where(AgencyOptOut.member_id == Member.id,
                                          AgencyOptOut.agency.in_(list(payload["sponsors"])))
    excluded = [str(r) for r in payload.get("exclude_member_refs") or []]
    for index, (cell, short) in enumerate(zip(cells, shortfalls, strict=True)):
        if not short:
            continue
        in_cell = [getattr(Member, d) == (int(v) if d == "deprivation_decile" else str(v))
                   for d, v in cell["cell"].items()]
        no_consent = or_(Member.consent_surveys.is_(False), Member.opted_out_at.is_not(None),
                         opted_out_of_sponsor)
        capped = and_(Member.cap_free_at.is_not(None), Member.cap_free_at > now)
        row = session.execute(select(
            func.count(),
            func.sum(case((no_consent, 1), else_=0)),
            func.sum(case((and_(~no_consent, capped), 1), else_=0)),
            func.sum(case((Member.member_ref.in_(excluded or [""]), 1), else_=0)),
        ).where(Member.status == "active", *in_cell, *_request_filters(payload))).one()
        total, without, resting, out = (int(v or 0) for v in row)
        parts = [f"the panel has {total} eligible-profile member(s) in this cell"]
        if without:
            parts.append(f"{without} without consent or opted out")
        if resting:
            parts.append(f"{resting} resting under the contact cap")
        if out:
            parts.append(f"{out} excluded by the request")
        reasons[index] = "; ".join(parts)
    return reasons


def draw_and_tell(session: Session, payload: dict, *, bus: Bus, cap: ContactCap,
                  batch_size: int, now: datetime) -> None:
    """Draw the sample surveys asked for and send it the drawn members, batch by batch
    (a bus handler: the inbox row, the reservations and the outbox commit together)."""
    result = draw(session, payload, cap, now)
    batches = [result.member_ids[start:start + batch_size]
               for start in range(0, len(result.member_ids), batch_size)] or [[]]
    # Cells travel in the first batch only: they describe the whole draw.
    for number, ids in enumerate(batches):
        bus.send(session, "surveys.sample_drawn", {
            "survey_id": payload["survey_id"],
            "draw_id": payload.get("draw_id"),
            "members": sampled_members(session, ids),
            "shortfall": result.shortfall,
            "cells": result.cells if number == 0 else [],
        })


_SAMPLED = select(Member.member_ref, Member.preferred_channel, Member.language,
                  *[getattr(Member, d) for d in PROFILE_DIMENSIONS], Member.extra)


def sampled_members(session: Session, ids: list[int]) -> list[dict]:
    """What surveys is told of each drawn member: ref, channel, language and profile only.

    Columns, not Member objects: a 100,000-member draw builds a hundred of these batches.
    """
    if not ids:
        return []
    rows = session.execute(_SAMPLED.where(among(session, Member.id, ids)).order_by(Member.id))
    return [{"member_ref": row[0], "channel": row[1], "language": row[2],
             "profile": profile_of(row[3:-1], row[-1])} for row in rows]
