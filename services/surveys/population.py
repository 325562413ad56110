"""The census margins surveys weights to: a copy of panel's population targets."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.surveys.models import PopulationTarget


def replace_targets(session: Session, payload: dict) -> None:
    """Replace the targets of every area the message covers; other areas stay as they were."""
    areas = list(payload["areas"])
    if areas:
        session.execute(delete(PopulationTarget).where(PopulationTarget.area.in_(areas)))
    session.add_all(
        PopulationTarget(vintage=payload["vintage"], area=area, dimension=dimension,
                         category=category, population=population)
        for area, dimensions in payload["areas"].items()
        for dimension, categories in dimensions.items()
        for category, population in categories.items()
    )
