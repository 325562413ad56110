"""Queue handlers of feedback: the only entry points for messages from the other services,
and its periodic work (overdue reports, progress news)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from flask import current_app

from services.feedback.accountability import raise_overdue_flags
from services.feedback.models import ApiKey
from services.feedback.progress import tell_progress
from services.feedback.reports import (
    Links,
    draft_report,
    forget_member,
    replace_themes,
    tell_respondents,
)
from shared.auth import revoke_stored_key, store_issued_key
from shared.bus import utcnow
from shared.db import new_session
from shared.service import bus

log = logging.getLogger(__name__)


def links_from_config() -> Links:
    return Links(current_app.config["FEEDBACK_URL"], current_app.config["SECRET_KEY"])


def survey_closed(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.survey_closed", envelope, draft_report)


def survey_themes(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.survey_themes", envelope, replace_themes)


def report_published(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.report_published", envelope, partial(
            tell_respondents, bus=bus(), links=links_from_config(),
            batch_size=current_app.config["DELIVERY_BATCH_SIZE"]))


def api_key_issued(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.api_key_issued", envelope,
                            partial(store_issued_key, model=ApiKey))


def api_key_revoked(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.api_key_revoked", envelope,
                            partial(revoke_stored_key, model=ApiKey))


def member_erased(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.member_erased", envelope, forget_member)


def flag_overdue(now: datetime | None = None) -> int:
    """Daily: flag to each sponsor agency the reports overdue for publication."""
    with new_session() as session:
        flags = raise_overdue_flags(session, now=now or utcnow(),
                                    overdue_days=current_app.config["FEEDBACK_OVERDUE_DAYS"])
    for flag in flags:
        log.warning("report %(report_id)s (%(title)s) is %(days_overdue)s day(s) overdue "
                    "for %(agency)s", flag)
    return len(flags)


def send_progress_news(now: datetime | None = None) -> int:
    """Hourly: tell respondents of news on commitments, nobody more than once a week."""
    with new_session() as session:
        return tell_progress(session, bus(), links=links_from_config(),
                             batch_size=current_app.config["DELIVERY_BATCH_SIZE"], now=now)
