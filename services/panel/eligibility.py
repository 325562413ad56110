"""Before a launch: how many panel members each quota cell of the survey could be drawn from,
and what stops the others. Surveys asks (panel.count_eligible) with the draw's own request;
panel counts with the draw's own rules and answers (surveys.eligible_counts). Nothing is
reserved and no one is named: counts only leave panel.

Each active member in the survey's areas is counted once, under the first of these that
applies: opted out (of the whole panel, or of a sponsoring agency), no consent to surveys,
prefers a channel the survey does not use, resting under the contact cap; else eligible. A
member falls in the first quota cell they match, as in the draw, so the cells' eligible counts
are exactly who the draw would choose from now.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from services.panel.draws import (
    dimension_text,
    profile_filters,
    quota_cells,
    request_channels,
)
from services.panel.models import AgencyOptOut, Member
from services.panel.quotas import cell_categories, cells_from_codes
from shared.bus import Bus

# What stops a member, in the order they are tried; "eligible" when nothing does.
REASONS = ("opted_out", "no_consent", "other_channel", "at_cap", "eligible")


def _reason(payload: dict, now: datetime):
    """The index in REASONS of what stops each member, as a SQL expression."""
    opted_out_of_sponsor = exists().where(AgencyOptOut.member_id == Member.id,
                                          AgencyOptOut.agency.in_(list(payload["sponsors"])))
    return case(
        (or_(Member.opted_out_at.is_not(None), opted_out_of_sponsor), 0),
        (Member.consent_surveys.is_(False), 1),
        (Member.preferred_channel.not_in(request_channels(payload)), 2),
        (and_(Member.cap_free_at.is_not(None), Member.cap_free_at > now), 3),
        else_=4)


def count_eligible(session: Session, payload: dict, now: datetime) -> list[dict]:
    """Each quota cell of the request (panel.count_eligible's payload): its target, members,
    the count stopped by each reason, the eligible and the shortfall against the target."""
    cells = quota_cells(session, payload)
    dims = sorted({d for c in cells for d in c["cell"]})
    categories = cell_categories([c["cell"] for c in cells], dims)
    where = [Member.status == "active", *profile_filters(payload)]
    for dim, cats in zip(dims, categories, strict=True):
        if all(dim in c["cell"] for c in cells):
            where.append(dimension_text(dim).in_(cats))
    reason = _reason(payload, now).label("reason")
    columns = [dimension_text(d) for d in dims]
    rows = session.execute(select(*columns, reason, func.count()).where(*where)
                           .group_by(*columns, reason)).all()
    lookups = [{v: i for i, v in enumerate(cats)} for cats in categories]
    codes = [np.array([lookups[i].get(row[i], -1) for row in rows], dtype=np.int32)
             for i in range(len(dims))]
    cell_of = cells_from_codes(codes, categories, dims, [c["cell"] for c in cells]) \
        if dims else np.zeros(len(rows), dtype=np.int32)
    tally = np.zeros((len(cells), len(REASONS)), dtype=np.int64)
    for index, row in zip(cell_of, rows, strict=True):
        if index >= 0:
            tally[index, int(row[len(dims)])] += int(row[-1])
    return [{"cell": cell["cell"], "target": cell["target"], "members": int(counts.sum()),
             **{name: int(n) for name, n in zip(REASONS, counts, strict=True)},
             "shortfall": max(0, cell["target"] - int(counts[-1]))}
            for cell, counts in zip(cells, tally, strict=True)]


def count_and_tell(session: Session, payload: dict, *, bus: Bus, now: datetime) -> None:
    """Answer surveys' question with this moment's counts (a bus handler's effect)."""
    bus.send(session, "surveys.eligible_counts", {
        "survey_id": payload["survey_id"], "request_id": payload["request_id"],
        "measured_at": now, "cells": count_eligible(session, payload, now)})
