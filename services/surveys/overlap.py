"""Overlap between surveys: the same areas, at the same time, on overlapping topics."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.surveys.models import Survey, SurveySponsor
from services.surveys.queries import sponsored_survey
from shared.statuses import SurveyStatus


def open_to_join(survey: Survey) -> bool:
    """Whether another agency may ask to co-sponsor it: a draft its lead left open to joining."""
    return survey.status == SurveyStatus.DRAFT and survey.open_to_join


def window(survey: Survey) -> tuple[date | None, date | None]:
    start = survey.fieldwork_start or (survey.launched_at.date() if survey.launched_at else None)
    return start, survey.fieldwork_end


def windows_meet(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    """Whether two windows share a day; an open end reaches as far as needed."""
    a_start, a_end = a
    b_start, b_end = b
    return (a_end is None or b_start is None or b_start <= a_end) and \
        (b_end is None or a_start is None or a_start <= b_end)


def overlaps_with(survey: Survey, other: Survey) -> bool:
    if not (set(survey.areas or []) & set(other.areas or [])):
        return False
    if not ({t.lower() for t in survey.topics or []} & {t.lower() for t in other.topics or []}):
        return False
    return windows_meet(window(survey), window(other))


def find_overlaps(session: Session, survey: Survey, agency: str) -> list[dict]:
    """Other agencies' drafts and surveys in fieldwork overlapping this one, each with how to join.

    Surveys the agency already sponsors are left out: there is nothing to join.
    """
    if not survey.areas or not survey.topics:
        return []
    own = select(SurveySponsor.survey_id).where(SurveySponsor.agency == agency)
    candidates = session.scalars(
        select(Survey).where(Survey.status.in_((SurveyStatus.DRAFT, SurveyStatus.FIELDWORK)),
                             Survey.id != survey.id,
                             Survey.id.not_in(own))
        .options(selectinload(Survey.sponsors)).order_by(Survey.id)
    )
    return [
        {"survey_id": other.id, "title": other.title, "lead_agency": other.lead_agency,
         "status": other.status, "areas": list(other.areas), "topics": list(other.topics),
         "fieldwork": {"start": window(other)[0].isoformat() if window(other)[0] else None,
                       "end": other.fieldwork_end.isoformat() if other.fieldwork_end else None},
         # Only a draft its lead left open to joining takes requests; others can only be noted.
         "join": f"/api/v1/surveys/{other.id}/join-requests" if open_to_join(other) else ""}
        for other in candidates if overlaps_with(survey, other)
    ]


def overlaps_of(session: Session, *, agency: str, survey_id: int) -> list[dict]:
    """Other agencies' surveys overlapping one the agency sponsors."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    return find_overlaps(session, survey, agency)
