"""Drawing a sample from the database: eligible candidates, quota cells, atomic reservation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import numpy as np
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from services.panel.contact_cap import ContactCap, free_at, is_free
from services.panel.models import (
    AgencyOptOut,
    ContactEvent,
    DrawnBatch,
    DrawPoolMember,
    DrawProfile,
    Member,
    profile_of,
)
from services.panel.quotas import (
    cell_categories,
    cell_label,
    cells_from_codes,
    proportional_cells,
)
from services.panel.sampling import rank_within_cells
from services.panel.targets import margins_from_db
from shared.bus import Bus
from shared.db import among, insert_rows, new_session
from shared.messages import PROFILE_DIMENSIONS
from shared.service import bus

RESERVE_FACTOR = 2  # ranked spares per cell, for members lost at reservation
IN_CHUNK = 1000
_EPOCH = datetime(1970, 1, 1).date()


@dataclass
class DrawResult:
    member_ids: list[int]
    cells: list[dict] = field(default_factory=list)
    shortfall: int = 0


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


def dimension_text(dim: str):
    """A profile column as the text quota cells name its values by."""
    column = getattr(Member, dim)
    return cast(column, String) if dim == "deprivation_decile" else column


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
    """Eligible members as arrays, in id order: ids, day of last invitation (0 = never), and
    for each quota dimension the index of the member's value among the cells' values (-1 =
    other).

    Read from draw_pool, the drawable members that the triggers on members keep (active,
    consenting, not opted out), with their cap state and the number of their profile: the
    request's filters and the cells are applied to the few distinct profiles, not to every
    member's strings.
    """
    profiles, others = _profiles_in_draw(session, payload, cells, dims, categories)
    if not profiles:
        return np.empty(0, np.int64), np.empty(0, np.int64), [np.empty(0, np.int32)
                                                              for _ in dims]
    read = _read_pool_postgresql if session.get_bind().dialect.name == "postgresql" \
        else _read_pool
    ids, days, profile_ids = read(session, sorted(profiles), sorted(others), now)
    keep = ~np.isin(ids, _excluded_ids(session, payload))
    # Members in id order, whatever order the server read them in: same seed, same draw.
    order = np.flatnonzero(keep)[np.argsort(ids[keep], kind="stable")]
    table = np.full((max(profiles) + 1, len(dims)), -1, dtype=np.int32)
    for profile_id, codes in profiles.items():
        table[profile_id] = codes
    codes = table[profile_ids[order]]
    return ids[order], days[order], [np.ascontiguousarray(codes[:, i])
                                     for i in range(len(dims))]


def _profiles_in_draw(session: Session, payload: dict, cells: list[dict], dims: list[str],
                      categories: list[list[str]]) -> tuple[dict[int, list[int]], set[int]]:
    """The drawable profiles the request's channels and filters allow and some cell can take,
    with each one's code in every quota dimension; and the ids of the other profiles."""
    channels = set(request_channels(payload))
    filters = {dim: {int(v) if dim == "deprivation_decile" else str(v) for v in values}
               for dim, values in (payload.get("filters") or {}).items()
               if dim in PROFILE_DIMENSIONS}
    # Members in no cell cannot be drawn: a value every cell names must be one of theirs.
    required = [i for i, dim in enumerate(dims) if all(dim in c for c in cells)]
    lookups = [{v: i for i, v in enumerate(cats)} for cats in categories]
    query = select(DrawProfile.id, DrawProfile.preferred_channel,
                   *[getattr(DrawProfile, d) for d in PROFILE_DIMENSIONS])
    wanted, others = {}, set()
    for row in session.execute(query):
        profile = dict(zip(PROFILE_DIMENSIONS, row[2:], strict=True))
        codes = [lookups[i].get(None if profile[d] is None else str(profile[d]), -1)
                 for i, d in enumerate(dims)]
        if row[1] in channels and all(profile[d] in v for d, v in filters.items()) \
                and all(codes[i] >= 0 for i in required):
            wanted[row[0]] = codes
        else:
            others.add(row[0])
    return wanted, others


def _excluded_ids(session: Session, payload: dict) -> np.ndarray:
    """Members the request excludes or who opted out of one of the survey's sponsors."""
    ids = list(session.scalars(select(AgencyOptOut.member_id).where(
        AgencyOptOut.agency.in_(list(payload["sponsors"])))))
    refs = [str(r) for r in payload.get("exclude_member_refs") or []]
    for start in range(0, len(refs), IN_CHUNK):
        ids += session.scalars(select(Member.id).where(
            among(session, Member.member_ref, refs[start:start + IN_CHUNK])))
    return np.array(ids, dtype=np.int64)


def _read_pool(session: Session, profile_ids: list[int], _others: list[int], now: datetime
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pool's members under the cap with these profiles: ids, days, profile ids."""
    rows = []
    for start in range(0, len(profile_ids), IN_CHUNK):
        rows += session.execute(select(
            DrawPoolMember.member_id, DrawPoolMember.last_day, DrawPoolMember.profile_id)
            .where(_under_cap(now), DrawPoolMember.profile_id.in_(
                profile_ids[start:start + IN_CHUNK]))).all()
    columns = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return columns[:, 0].copy(), columns[:, 1].copy(), columns[:, 2].copy()


def _under_cap(now: datetime):
    return or_(DrawPoolMember.cap_free_at.is_(None), DrawPoolMember.cap_free_at <= now)


# One row per profile with its free members' ids and days as two int4 arrays, read in
# PostgreSQL's binary format and turned into numpy arrays without a Python object per member.
_POOL_BY_PROFILE = """
    SELECT profile_id, array_agg(member_id), array_agg(last_day)
    FROM draw_pool
    WHERE (cap_free_at IS NULL OR cap_free_at <= %(now)s) {profiles}
    GROUP BY profile_id"""
_INT4_ARRAY_OID = 1007


class _ArrayBytes(Loader):
    """An int4[] as PostgreSQL sends it in binary: the bytes themselves."""

    format = Format.BINARY

    def load(self, data):
        return bytes(data)


def _int4_array(data: bytes) -> np.ndarray:
    """The values of a one-dimensional int4[] without nulls, from its binary form: a header
    of 20 bytes (12 for an empty array), then a length and a big-endian value per element."""
    if len(data) <= 12:
        return np.empty(0, dtype=np.int64)
    return np.frombuffer(data, dtype=">i4", offset=20)[1::2].astype(np.int64)


def _read_pool_postgresql(session: Session, profile_ids: list[int], others: list[int],
                          now: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # The server tests every row against the list it is given: give it the shorter one.
    if not others:
        statement, values = _POOL_BY_PROFILE.format(profiles=""), []
    elif len(profile_ids) <= len(others):
        statement, values = _POOL_BY_PROFILE.format(
            profiles="AND profile_id = ANY(%(profiles)s)"), profile_ids
    else:
        statement, values = _POOL_BY_PROFILE.format(
            profiles="AND profile_id <> ALL(%(profiles)s)"), others
    driver = session.connection().connection.driver_connection
    with driver.cursor(binary=True) as cursor:
        cursor.adapters.register_loader(_INT4_ARRAY_OID, _ArrayBytes)
        rows = cursor.execute(statement, {"now": now, "profiles": values}).fetchall()
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    ids = [_int4_array(r[1]) for r in rows]
    days = np.concatenate([_int4_array(r[2]) for r in rows])
    profiles = np.repeat(np.array([r[0] for r in rows], dtype=np.int64), [i.size for i in ids])
    return np.concatenate(ids), days, profiles


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
    free: dict[int, datetime] = {}
    for start in range(0, len(member_ids), IN_CHUNK):
        chunk = member_ids[start:start + IN_CHUNK]
        times: dict[int, list[datetime]] = {i: [] for i in chunk}
        for member_id, at in session.execute(
                select(ContactEvent.member_id, ContactEvent.contacted_at)
                .where(among(session, ContactEvent.member_id, chunk),
                       ContactEvent.contacted_at > since)):
            times[member_id].append(at)
        free.update((member_id, free_at(cap, times[member_id] or [now])) for member_id in chunk)
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the whole draw: the triggers on members then refresh the draw
        # pool once, over all of its rows.
        session.execute(_SET_CAP_STATE, {"now": now, "ids": list(free),
                                         "free": list(free.values())})
        return
    # Most members share one value (now + the gap): one UPDATE per value, not per member.
    by_free_at: dict[datetime, list[int]] = {}
    for member_id, value in free.items():
        by_free_at.setdefault(value, []).append(member_id)
    for value, ids in by_free_at.items():
        for start in range(0, len(ids), IN_CHUNK):
            session.execute(update(Member).where(Member.id.in_(ids[start:start + IN_CHUNK]))
                            .values(last_contacted_at=now, cap_free_at=value)
                            .execution_options(synchronize_session=False))


_SET_CAP_STATE = text(
    "UPDATE members SET last_contacted_at = :now, cap_free_at = given.free "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:free AS timestamptz[])) AS given(id, free) "
    "WHERE members.id = given.id")


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


def draw_and_tell(envelope: dict, *, cap: ContactCap, batch_size: int, now: datetime) -> bool:
    """Draw the sample surveys asked for, then tell surveys the drawn members batch by batch.

    The draw commits first, with the request's inbox row and every batch kept in
    drawn_batches; each batch then goes to the outbox in a commit of its own, so surveys
    invites the first while panel builds the next. A run stopped between two batches, run
    again for the same request, tells the rest: the request is not drawn twice, no batch is
    told twice, none is lost.
    """
    key = str(envelope["message_id"])
    with new_session() as session:
        handled = bus().handle(session, "panel.draw_sample", envelope, partial(
            keep_draw, key=key, cap=cap, batch_size=batch_size, now=now))
    tell_draw(key)
    return handled


def tell_draw(key: str) -> int:
    """Tell surveys each batch the draw still keeps, a commit each; how many."""
    told = 0
    with new_session() as session:
        while (batch := next_untold_batch(session, key)) is not None:
            tell_batch(session, bus(), batch)
            session.commit()
            told += 1
    return told


# Far longer than a draw's own run takes to tell its batches (seconds): batches kept this
# long belong to a draw whose job stopped for good after drawing.
KEPT_TOO_LONG = timedelta(minutes=10)


def tell_kept_draws(now: datetime) -> int:
    """Periodic: the batches of draws whose job stopped for good after drawing go to surveys
    (each is told once, whoever tells it); how many."""
    with new_session() as session:
        keys = list(session.scalars(select(DrawnBatch.draw_key).distinct().where(
            DrawnBatch.kept_at < now - KEPT_TOO_LONG)))
    return sum(tell_draw(key) for key in keys)


def keep_draw(session: Session, payload: dict, *, key: str, cap: ContactCap, batch_size: int,
              now: datetime) -> None:
    """Draw, reserve and log the sample and keep its batches for surveys, in the caller's
    transaction; the cells travel in the first batch only: they describe the whole draw."""
    result = draw(session, payload, cap, now)
    ids = result.member_ids
    batches = [ids[start:start + batch_size] for start in range(0, len(ids), batch_size)] or [[]]
    insert_rows(session, DrawnBatch.__table__, [
        {"draw_key": key, "number": number, "survey_id": payload["survey_id"],
         "draw_id": payload.get("draw_id"), "member_ids": batch, "shortfall": result.shortfall,
         "cells": result.cells if number == 0 else []}
        for number, batch in enumerate(batches)])


_UNTOLD = select(DrawnBatch.id, DrawnBatch.survey_id, DrawnBatch.draw_id, DrawnBatch.member_ids,
                 DrawnBatch.shortfall, DrawnBatch.cells)


def next_untold_batch(session: Session, key: str):
    """The draw's next batch not yet told, taken out of drawn_batches in the session's
    transaction (told when that commits); None once every batch has been told."""
    while True:
        batch = session.execute(_UNTOLD.where(DrawnBatch.draw_key == key)
                                .order_by(DrawnBatch.number).limit(1)).first()
        if batch is None:
            return None
        # A second run telling the same draw waits on this row's lock, then finds it gone
        # and takes the next one.
        if session.execute(delete(DrawnBatch).where(DrawnBatch.id == batch.id)).rowcount:
            return batch


def tell_batch(session: Session, bus: Bus, batch) -> None:
    """The batch's members, as surveys may know them, into the outbox (the caller commits)."""
    bus.send(session, "surveys.sample_drawn", {
        "survey_id": batch.survey_id, "draw_id": batch.draw_id,
        "members": sampled_members(session, batch.member_ids),
        "shortfall": batch.shortfall, "cells": batch.cells})


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
