"""Queue handlers of panel: the only entry points for messages from the other services, and
its periodic work."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy.orm import Session

from services.panel import confirmations, draws, sending
from services.panel.cap_counts import publish_cap_counts
from services.panel.contact_cap import ContactCap
from services.panel.eligibility import count_and_tell
from services.panel.imports import import_queued
from services.panel.messaging import compile_templates as warm_up  # noqa: F401 - shared.worker
from services.panel.models import ApiKey
from services.panel.staff_mail import send_staff_email
from services.panel.survey_respondents import record_agency_name, record_respondents
from services.panel.unused_contacts import give_back_contacts
from shared.auth import revoke_stored_key, store_issued_key
from shared.bus import utcnow
from shared.db import new_session
from shared.service import bus


def draw_sample(envelope: dict) -> bool:
    return draws.draw_and_tell(envelope, cap=ContactCap.from_config(current_app.config),
                               batch_size=current_app.config["DELIVERY_BATCH_SIZE"],
                               now=utcnow())


def count_eligible(envelope: dict) -> bool:
    """Before a launch, surveys asks how many members each quota cell could be drawn from."""
    with new_session() as session:
        return bus().handle(session, "panel.count_eligible", envelope,
                            partial(count_and_tell, bus=bus(), now=utcnow()))


def contacts_unused(envelope: dict) -> bool:
    """Surveys did not invite some sampled members: their contact-cap slots are free again."""
    with new_session() as session:
        return bus().handle(session, "panel.contacts_unused", envelope, _give_back_contacts)


def staff_email(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.staff_email", envelope,
                            partial(send_staff_email, config=current_app.config))


def _give_back_contacts(session: Session, payload: dict) -> None:
    give_back_contacts(session, survey_id=payload["survey_id"], draw_id=payload["draw_id"],
                       member_refs=[str(ref) for ref in payload["member_refs"]],
                       cap=ContactCap.from_config(current_app.config))


def deliver(envelope: dict) -> int:
    """Record the batch's messages once, then send whatever of it is still unsent."""
    return sending.deliver(envelope)


def publish_contact_cap_counts(now: datetime | None = None) -> int:
    """Periodic: tell surveys how many members of each area rest under the contact cap."""
    with new_session() as session:
        return publish_cap_counts(session, bus(), now or utcnow())


def tell_kept_draws(now: datetime | None = None) -> int:
    """Periodic: batches a draw kept and no run of its job told go to surveys."""
    return draws.tell_kept_draws(now or utcnow())


def sweep_unconfirmed_deliveries(now: datetime | None = None) -> int:
    """Periodic: deliveries a stopped worker left "sending" become "unconfirmed"."""
    return sending.sweep_unconfirmed_deliveries(now)


def import_members(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.import_members", envelope, partial(
            import_queued, allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"]))


def confirm_join(envelope: dict) -> int:
    return confirmations.confirm_join(envelope)


def api_key_issued(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_issued", envelope,
                            partial(store_issued_key, model=ApiKey))


def api_key_revoked(envelope: dict) -> bool:
    with new_session() as session:
        return bus().handle(session, "panel.api_key_revoked", envelope,
                            partial(revoke_stored_key, model=ApiKey))


def agency_named(envelope: dict) -> bool:
    """Surveys added a partner agency: its name, for panel's pages."""
    with new_session() as session:
        return bus().handle(session, "panel.agency_named", envelope, record_agency_name)


def survey_respondents(envelope: dict) -> bool:
    """A survey closed: who answered it, for the representativeness of its respondents."""
    with new_session() as session:
        return bus().handle(session, "panel.survey_respondents", envelope, record_respondents)
