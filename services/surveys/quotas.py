"""Quota cells: which cell a member's profile falls in, and how full each cell is."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Invitation, Response, Survey


def matches(cell: Mapping[str, object], profile: Mapping[str, object]) -> bool:
    return all(str(profile.get(dimension)) == str(value) for dimension, value in cell.items())


def cell_key(cell: Mapping[str, object]) -> str:
    return json.dumps({k: str(v) for k, v in cell.items()}, sort_keys=True)


def cell_of(quotas: list[dict], profile: Mapping[str, object]) -> str | None:
    """The key of the first quota cell the profile falls in, or None when it is in none."""
    for quota in quotas:
        if matches(quota["cell"], profile):
            return cell_key(quota["cell"])
    return None


def fill(quotas: list[dict], invited: Iterable[dict], completed: Iterable[dict]) -> list[dict]:
    """Each cell's target, invitations and completed responses, from profile snapshots."""
    invited_in = Counter(cell_of(quotas, p) for p in invited)
    completed_in = Counter(cell_of(quotas, p) for p in completed)
    cells = []
    for quota in quotas:
        key = cell_key(quota["cell"])
        done = completed_in.get(key, 0)
        cells.append({"cell": dict(quota["cell"]), "target": quota["target"],
                      "invited": invited_in.get(key, 0), "completed": done,
                      "fill": round(done / quota["target"], 3), "full": done >= quota["target"]})
    return cells


def cell_fill(session: Session, survey: Survey) -> list[dict]:
    """The fill of the survey's quota cells, counted from the invitations' profile snapshots."""
    if not survey.quotas:
        return []
    rows = session.execute(
        select(Invitation.profile, Response.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id)
    ).all()
    return fill(survey.quotas, (profile for profile, _ in rows),
                (profile for profile, response in rows if response is not None))


def full_cells(session: Session, survey: Survey) -> set[str]:
    """Keys of the cells that have all the completed responses they need."""
    if not survey.quotas:
        return set()
    # Only responses count here, so a launch's batches do not each read every invitation.
    completed = session.scalars(
        select(Invitation.profile).join(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id))
    return {cell_key(c["cell"]) for c in fill(survey.quotas, [], completed) if c["full"]}
