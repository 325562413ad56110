"""Steering fieldwork: the monitor, reminders to non-responders, top-ups for lagging cells, closing.

The periodic functions (send_due_reminders, top_up_lagging_cells, close_ended_surveys) run
on the schedule in services/surveys/schedule.py and take `now` so tests can move the clock.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.surveys.lifecycle import (
    by_language,
    close_survey,
    invitation_context,
    panel_channels,
)
from services.surveys.models import Agency, Invitation, Response, Survey
from services.surveys.queries import sponsored_survey
from services.surveys.quotas import cell_fill, cell_of, full_cells
from services.surveys.responding import current_question_again, saved_answers_of, send_dialogue
from shared.bus import Bus, utcnow
from shared.db import new_session
from shared.errors import RuleBroken
from shared.messages import PROFILE_DIMENSIONS
from shared.service import bus
from shared.statuses import InvitationStatus, SurveyStatus

log = logging.getLogger(__name__)

DELIVERED = (InvitationStatus.SENT, InvitationStatus.DELIVERED)
# A top-up waits this long after launch (or the last top-up) for answers to come in.
TOP_UP_AFTER = timedelta(days=2)
# The completion rate assumed before any invitation has been answered.
ASSUMED_RATE = 0.3


def _rate(completed: int, invited: int) -> float | None:
    return round(completed / invited, 3) if invited else None


def monitor(session: Session, survey: Survey) -> dict:
    """Invited, delivered, started, completed; rates by channel and profile group; cell fill."""
    rows = session.execute(
        select(Invitation.channel, Invitation.profile, Invitation.delivery_status,
               Invitation.started_at, Response.channel)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id)
    ).all()
    by_channel: dict = defaultdict(lambda: {"invited": 0, "completed": 0})
    by_group: dict = {d: defaultdict(lambda: {"invited": 0, "completed": 0})
                      for d in PROFILE_DIMENSIONS}
    delivered = started = completed = 0
    answered_by: dict[str, int] = defaultdict(int)
    for channel, profile, status, started_at, response_channel in rows:
        done = response_channel is not None
        delivered += status in DELIVERED
        started += started_at is not None or done
        completed += done
        by_channel[channel]["invited"] += 1
        by_channel[channel]["completed"] += done
        if done:
            answered_by[response_channel] += 1
        for dimension in PROFILE_DIMENSIONS:
            group = by_group[dimension][str(profile.get(dimension))]
            group["invited"] += 1
            group["completed"] += done
    for figures in [*by_channel.values(),
                    *(g for groups in by_group.values() for g in groups.values())]:
        figures["rate"] = _rate(figures["completed"], figures["invited"])
    return {
        "survey_id": survey.id, "status": survey.status, "invited": len(rows),
        "delivered": delivered, "started": started, "completed": completed,
        "response_rate": _rate(completed, len(rows)), "by_channel": dict(by_channel),
        "answered_by": dict(answered_by),
        "by_group": {d: dict(groups) for d, groups in by_group.items() if groups},
        "cells": cell_fill(session, survey), "top_ups": survey.top_ups,
    }


def sponsored_monitor(session: Session, *, agency: str, survey_id: int) -> dict:
    """The fieldwork monitor of a survey the agency sponsors."""
    return monitor(session, sponsored_survey(session, agency=agency, survey_id=survey_id))


# -- reminders ---------------------------------------------------------------


def reminders_due(survey: Survey, now: datetime) -> int:
    """How many of the survey's reminders should have gone by now."""
    if survey.launched_at is None:
        return 0
    return sum(1 for days in survey.reminder_days
               if survey.launched_at + timedelta(days=days) <= now)


def remind(session: Session, bus: Bus, survey: Survey, now: datetime, surveys_url: str,
           batch_size: int, due: int | None = None) -> int:
    """Remind the members who have not completed, once per due reminder; returns how many.

    `due` is how many reminders each should have had by now: the schedule's count unless
    given (a reminder sent by hand counts as the next one of the schedule).
    """
    due = reminders_due(survey, now) if due is None else due
    if due == 0:
        return 0
    waiting = list(session.scalars(
        select(Invitation)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id, Invitation.reminders_sent < due,
               Response.id.is_(None))
        .order_by(Invitation.id)
    ))
    full = full_cells(session, survey)
    # Members in a cell already full are not chased: their answers are not needed now.
    waiting = [i for i in waiting if cell_of(survey.quotas, i.profile) not in full]
    if not waiting:
        return 0
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    for invitation in waiting:
        invitation.reminders_sent = due
    for language, batch in by_language(survey, [(i.language, i) for i in waiting]):
        context = invitation_context(survey, names, language)
        for start in range(0, len(batch), batch_size):
            bus.send(session, "panel.deliver", {
                "template": "reminder", "context": context,
                "recipients": [{"member_ref": i.member_ref,
                                "delivery_ref": f"reminder:{i.id}:{due}",
                                "link": f"{surveys_url}/r/{i.token}"}
                               for i in batch[start:start + batch_size]],
            })
    # Someone in an SMS dialogue can pick it up again by answering the question re-sent.
    questions = list(survey.questions)
    in_dialogue = [i for i in waiting if i.dialogue_code is not None]
    kept = saved_answers_of(session, in_dialogue, questions)
    again = [current_question_again(i, questions, kept[i.id]) for i in in_dialogue]
    again = [recipient for recipient in again if recipient]
    if again:
        send_dialogue(session, bus, again, batch_size)
    return len(waiting)


def waiting_for_answers(session: Session, survey: Survey) -> tuple[int, int]:
    """How many invited members have not completed, and the most reminders any has had."""
    count, most = session.execute(
        select(func.count(Invitation.id), func.coalesce(func.max(Invitation.reminders_sent), 0))
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id, Response.id.is_(None))).one()
    return count, most


def remind_now(session: Session, bus: Bus, *, agency: str, survey_id: int, now: datetime,
               surveys_url: str, batch_size: int) -> int:
    """A sponsor reminds, now, everyone who has not completed (members in full quota cells
    apart); returns how many were reminded."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    if survey.status != SurveyStatus.FIELDWORK:
        raise RuleBroken("Only a survey in fieldwork can send reminders.",
                         {"status": [survey.status]}, status=409)
    _, most = waiting_for_answers(session, survey)
    reminded = remind(session, bus, survey, now, surveys_url, batch_size, due=most + 1)
    session.commit()
    return reminded


def _surveys_in_fieldwork(session: Session) -> list[int]:
    return list(session.scalars(select(Survey.id).where(Survey.status == SurveyStatus.FIELDWORK)
                                .order_by(Survey.id)))


def send_due_reminders(now: datetime | None = None) -> int:
    """Periodic: send every survey's reminders that are due; returns how many went."""
    now = now or utcnow()
    sent = 0
    with new_session() as session:
        ids = _surveys_in_fieldwork(session)
    for survey_id in ids:
        with new_session() as session:
            survey = session.get(Survey, survey_id)
            if survey.status != SurveyStatus.FIELDWORK or not survey.reminder_days:
                continue
            sent += remind(session, bus(), survey, now, current_app.config["SURVEYS_URL"],
                           current_app.config["DELIVERY_BATCH_SIZE"])
            session.commit()
    return sent


# -- top-ups -----------------------------------------------------------------


def top_up_request(survey: Survey, cells: list[dict], invited_refs: list[str],
                   completed: int, invited: int) -> dict | None:
    """The panel.draw_sample asking for more members in the cells behind target, or None.

    A cell is behind when its completes plus the answers still expected from its open
    invitations (at the survey's completion rate so far) fall short of its target.
    """
    rate = max(completed / invited, 0.05) if invited and completed else ASSUMED_RATE
    quotas = []
    for cell in cells:
        if cell["full"]:
            continue
        open_invitations = cell["invited"] - cell["completed"]
        expected = cell["completed"] + open_invitations * rate
        if expected >= cell["target"]:
            continue
        wanted = math.ceil((cell["target"] - expected) / rate)
        quotas.append({"cell": cell["cell"], "target": wanted})
    if not quotas:
        return None
    return {
        "survey_id": survey.id, "draw_id": f"topup:{survey.top_ups + 1}",
        "size": sum(q["target"] for q in quotas),
        "sponsors": [s.agency for s in survey.sponsors], "seed": None, "quotas": quotas,
        "filters": {"area": list(survey.areas)} if survey.areas else {},
        "exclude_member_refs": invited_refs, "channels": panel_channels(survey.channels),
    }


def top_up(session: Session, bus: Bus, survey: Survey) -> dict | None:
    """Ask panel for a top-up sample for the lagging cells; the request sent, or None."""
    if survey.status != SurveyStatus.FIELDWORK or not survey.quotas:
        return None
    rows = session.execute(
        select(Invitation.member_ref, Response.id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.survey_id == survey.id)
    ).all()
    completed = sum(1 for _, response in rows if response is not None)
    request = top_up_request(survey, cell_fill(session, survey), [ref for ref, _ in rows],
                             completed, len(rows))
    if request is None:
        return None
    survey.top_ups += 1
    bus.send(session, "panel.draw_sample", request)
    return request


def top_up_sponsored(session: Session, bus: Bus, *, agency: str, survey_id: int) -> dict:
    """A sponsor asks panel for more members in the cells behind target; the monitor after."""
    survey, _ = ask_for_top_up(session, bus, agency=agency, survey_id=survey_id)
    return monitor(session, survey)


def may_top_up(survey: Survey) -> None:
    """RuleBroken unless the survey is in fieldwork and has quota cells to top up."""
    if survey.status != SurveyStatus.FIELDWORK:
        raise RuleBroken("Only a survey in fieldwork can be topped up.",
                         {"status": [survey.status]}, status=409)
    if not survey.quotas:
        raise RuleBroken("This survey has no quotas to top up.", {"quotas": ["none set"]},
                         status=409)


def ask_for_top_up(session: Session, bus: Bus, *, agency: str, survey_id: int
                   ) -> tuple[Survey, dict | None]:
    """A sponsor's top-up: the survey and the panel.draw_sample sent (None: no cell lags)."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    may_top_up(survey)
    request = top_up(session, bus, survey)
    session.commit()
    return survey, request


def _last_draw(session: Session, survey: Survey) -> datetime | None:
    return session.scalar(select(Invitation.created_at).where(
        Invitation.survey_id == survey.id).order_by(Invitation.created_at.desc()).limit(1))


def top_up_lagging_cells(now: datetime | None = None) -> int:
    """Periodic: top up lagging cells of surveys whose latest draw has had time to answer."""
    now = now or utcnow()
    asked = 0
    with new_session() as session:
        ids = _surveys_in_fieldwork(session)
    for survey_id in ids:
        with new_session() as session:
            survey = session.get(Survey, survey_id)
            last = _last_draw(session, survey)
            if last is None or not survey.quotas:
                continue
            if last + TOP_UP_AFTER > now:
                continue
            if top_up(session, bus(), survey):
                asked += 1
            session.commit()
    return asked


# -- closing -----------------------------------------------------------------


def close_ended_surveys(now: datetime | None = None) -> list[int]:
    """Periodic: close each survey whose fieldwork window ended before today."""
    now = now or utcnow()
    closed = []
    with new_session() as session:
        ids = list(session.scalars(select(Survey.id).where(
            Survey.status == SurveyStatus.FIELDWORK, Survey.fieldwork_end < now.date())))
    for survey_id in ids:
        try:
            with new_session() as session:
                survey = session.get(Survey, survey_id)
                if survey.status != SurveyStatus.FIELDWORK:
                    continue
                close_survey(session, bus(), survey)
                session.commit()
        except Exception:  # one survey that cannot close holds up none of the others
            log.exception("survey %s could not be closed at the end of its fieldwork window; "
                          "the next run tries again", survey_id)
            continue
        closed.append(survey_id)
        log.info("survey %s closed at the end of its fieldwork window", survey_id)
    return closed

