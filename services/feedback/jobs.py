"""Queue handlers of feedback: the only entry points for messages from the other services."""

from __future__ import annotations

from functools import partial

from services.feedback.models import ApiKey
from services.feedback.reports import draft_report, forget_member
from shared.auth import revoke_stored_key, store_issued_key
from shared.db import new_session
from shared.service import bus


def survey_closed(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "feedback.survey_closed", envelope, draft_report)


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
