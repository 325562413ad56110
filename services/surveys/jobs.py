"""Queue handlers of surveys: the only entry points for messages from the other services."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from services.surveys.audit import record_sent_action
from services.surveys.contact_caps import replace_cap_counts
from services.surveys.exports import run_export
from services.surveys.lifecycle import invite_sample, record_deliveries
from services.surveys.population import replace_targets
from services.surveys.prelaunch import record_answer
from services.surveys.privacy import forget_member
from services.surveys.responding import reply_to_dialogue
from shared.db import new_session
from shared.service import bus


def sample_drawn(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "surveys.sample_drawn", envelope, _invite)


def _invite(session: Session, payload: dict) -> None:
    invite_sample(
        session, bus(), survey_id=payload["survey_id"], members=payload["members"],
        surveys_url=current_app.config["SURVEYS_URL"],
        batch_size=current_app.config["DELIVERY_BATCH_SIZE"], draw_id=payload["draw_id"],
    )


def delivery_report(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "surveys.delivery_report", envelope, record_deliveries)


def population_targets(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "surveys.population_targets", envelope, replace_targets)


def contact_cap_counts(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "surveys.contact_cap_counts", envelope, replace_cap_counts)


def eligible_counts(envelope: dict) -> bool:
    """Panel's answer to a pre-launch count: kept for the launch page."""
    with new_session() as session:
        return bus().handle(session, "surveys.eligible_counts", envelope, record_answer)


def member_erased(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "surveys.member_erased", envelope, forget_member)


def staff_action(envelope: dict) -> bool:
    """A staff action done in panel or feedback, written to the audit log."""
    with new_session() as session:
        return bus().handle(session, "surveys.staff_action", envelope, record_sent_action)


def sms_reply(envelope: dict) -> bool:
    """An SMS reply from a member, forwarded by panel: advances their SMS dialogue."""
    with new_session() as session:
        handled = bus().handle(session, "surveys.sms_reply", envelope, _reply)
        if handled:
            # The member is waiting for the next question: hand it on now rather than at the
            # relay thread's next pass (a failed relay leaves it for that pass).
            bus().relay(session)
        return handled


def _reply(session: Session, payload: dict) -> None:
    reply_to_dialogue(session, bus(), payload,
                      batch_size=current_app.config["DELIVERY_BATCH_SIZE"])


def export_dataset(envelope: dict) -> bool:
    """Build an analyst's export file, reporting progress on its export row as it goes."""
    return run_export(envelope)
