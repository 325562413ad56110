"""The partnership calendar: every agency's surveys on a month timeline, so an officer plans
where and when the panel is not already being asked.

Every member of staff of every agency sees it, and sees of each survey only what the
partnership shares anyway: title, lead and sponsors, status, dates, areas and topics; never
questions, invitations or results. Surveys shown are drafts, planned ones (launched, fieldwork
not begun), those in fieldwork and those closed in the last 90 days. Two surveys overlap when
they share an area and their fieldwork shares a day: the same people may be asked twice.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.surveys.contact_caps import cap_counts
from services.surveys.models import Agency, Survey
from services.surveys.population import area_names
from shared.errors import NotFound
from shared.profile import category_label
from shared.statuses import SurveyStatus

CLOSED_SHOWN_DAYS = 90
MONTH = re.compile(r"(\d{4})-(\d{2})")
# The timeline's columns: the month's days seven at a time (the last column is shorter).
WEEK_DAYS = 7


@dataclass(frozen=True)
class Overlap:
    title: str
    lead_name: str
    area_names: tuple[str, ...]  # the areas both ask in


@dataclass(frozen=True)
class CalendarSurvey:
    id: int
    title: str
    lead_name: str
    sponsor_names: tuple[str, ...]
    phase: str  # "Draft", "Planned", "In fieldwork", "Closed"
    start: date | None
    end: date | None
    area_names: tuple[str, ...]
    topics: tuple[str, ...]
    overlaps: tuple[Overlap, ...]
    weeks: tuple[bool, ...]  # whether its fieldwork touches each week of the month shown


@dataclass(frozen=True)
class Week:
    first: date
    last: date


@dataclass(frozen=True)
class AreaRest:
    """How tired the panel is in one area, as panel last counted it."""

    name: str
    members: int  # who may be invited at all
    at_cap: int  # of them, resting under the contact cap
    next_free: date | None  # the first of them free again
    all_free: date | None  # all of them free again
    measured_at: datetime


@dataclass(frozen=True)
class CalendarMonth:
    month: date  # its first day
    weeks: tuple[Week, ...]
    surveys: tuple[CalendarSurvey, ...]  # fieldwork in this month, by start date
    undated: tuple[CalendarSurvey, ...]  # drafts with no fieldwork dates yet
    previous: date
    next: date
    areas: tuple[AreaRest, ...]  # by name; empty until panel has sent a count


def parse_month(value: str | None, today: date) -> date:
    """The first day of `YYYY-MM`, or of this month when none is given."""
    if not value:
        return today.replace(day=1)
    match = MONTH.fullmatch(value)
    if not match or not 2000 <= int(match.group(1)) <= 2100 or \
            not 1 <= int(match.group(2)) <= 12:
        raise NotFound("No such month.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _weeks(month: date) -> tuple[Week, ...]:
    days = calendar.monthrange(month.year, month.month)[1]
    return tuple(Week(month.replace(day=first), month.replace(day=min(first + WEEK_DAYS - 1,
                                                                       days)))
                 for first in range(1, days + 1, WEEK_DAYS))


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def _window(survey: Survey) -> tuple[date | None, date | None]:
    """Its fieldwork as planned, or as it happened: a survey closed early ends that day."""
    start = survey.fieldwork_start or _day(survey.launched_at)
    end = survey.fieldwork_end
    closed = _day(survey.closed_at)
    if closed and (end is None or closed < end):
        end = closed
    return start, end


def _phase(survey: Survey, today: date) -> str:
    if survey.status == SurveyStatus.DRAFT:
        return "Draft"
    if survey.status == SurveyStatus.CLOSED:
        return "Closed"
    start = survey.fieldwork_start
    return "Planned" if start and start > today else "In fieldwork"


def _meet(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    """Whether two dated windows share a day; an open end runs on."""
    (a_start, a_end), (b_start, b_end) = a, b
    if a_start is None or b_start is None:
        return False
    return (a_end is None or b_start <= a_end) and (b_end is None or a_start <= b_end)


def shown_surveys(session: Session, today: date) -> list[Survey]:
    """Every agency's surveys the calendar shows, with their sponsors."""
    closed_since = datetime.combine(today - timedelta(days=CLOSED_SHOWN_DAYS), datetime.min.time(),
                                    tzinfo=UTC)
    return list(session.scalars(
        select(Survey)
        .where(or_(Survey.status.in_((SurveyStatus.DRAFT, SurveyStatus.FIELDWORK)),
                   (Survey.status == SurveyStatus.CLOSED) & (Survey.closed_at >= closed_since)))
        .options(selectinload(Survey.sponsors)).order_by(Survey.id)))


def partnership_calendar(session: Session, *, month: date, today: date) -> CalendarMonth:
    """The calendar of one month: the surveys whose fieldwork touches it, each with the others
    it overlaps, and the drafts not yet dated."""
    surveys = shown_surveys(session, today)
    agencies = dict(session.execute(select(Agency.slug, Agency.name)).all())
    names = area_names(session)
    windows = {survey.id: _window(survey) for survey in surveys}
    weeks = _weeks(month)
    month_window = (weeks[0].first, weeks[-1].last)

    def entry(survey: Survey) -> CalendarSurvey:
        window = windows[survey.id]
        overlaps = tuple(
            Overlap(other.title, agencies.get(other.lead_agency, other.lead_agency),
                    tuple(category_label("area", a, names) for a in survey.areas
                          if a in set(other.areas)))
            for other in surveys
            if other.id != survey.id and set(survey.areas or []) & set(other.areas or [])
            and _meet(window, windows[other.id]))
        return CalendarSurvey(
            id=survey.id, title=survey.title,
            lead_name=agencies.get(survey.lead_agency, survey.lead_agency),
            sponsor_names=tuple(agencies.get(s.agency, s.agency) for s in survey.sponsors),
            phase=_phase(survey, today), start=window[0], end=window[1],
            area_names=tuple(category_label("area", a, names) for a in survey.areas or []),
            topics=tuple(survey.topics or []), overlaps=overlaps,
            weeks=tuple(_meet(window, (week.first, week.last)) for week in weeks))

    dated = sorted((s for s in surveys if _meet(windows[s.id], month_window)),
                   key=lambda s: (windows[s.id][0], s.id))
    undated = [s for s in surveys if windows[s.id][0] is None]
    last_month = month - timedelta(days=1)
    return CalendarMonth(
        month=month, weeks=weeks, surveys=tuple(entry(s) for s in dated),
        undated=tuple(entry(s) for s in undated), previous=last_month.replace(day=1),
        next=weeks[-1].last + timedelta(days=1), areas=_rest(session, names))


def _rest(session: Session, names: dict[str, str]) -> tuple[AreaRest, ...]:
    rest = [AreaRest(name=category_label("area", row.area, names), members=row.members,
                     at_cap=row.at_cap, next_free=_day(row.next_free_at),
                     all_free=_day(row.all_free_at), measured_at=row.measured_at)
            for row in cap_counts(session)]
    return tuple(sorted(rest, key=lambda area: area.name))
