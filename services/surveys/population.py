"""The census margins surveys weights to: a copy of panel's population targets."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.surveys.models import PopulationTarget


def replace_targets(session: Session, payload: dict) -> None:
    """Replace the targets of every area the message covers; other areas stay as they were.

    Each area keeps the name panel gave it (an older message names none).
    """
    areas = list(payload["areas"])
    names = payload.get("area_names") or {}
    if areas:
        session.execute(delete(PopulationTarget).where(PopulationTarget.area.in_(areas)))
    session.add_all(
        PopulationTarget(vintage=payload["vintage"], area=area, area_name=names.get(area),
                         dimension=dimension, category=category, population=population)
        for area, dimensions in payload["areas"].items()
        for dimension, categories in dimensions.items()
        for category, population in categories.items()
    )


def area_names(session: Session) -> dict[str, str]:
    """{area code: name} of every area panel has named."""
    return {area: name for area, name in session.execute(
        select(PopulationTarget.area, PopulationTarget.area_name)
        .where(PopulationTarget.area_name.is_not(None)).distinct())}
