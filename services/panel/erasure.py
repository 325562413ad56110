"""The right to erasure and of access: forget a member everywhere, or show all we hold."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.panel.models import (
    AgencyOptOut,
    Campaign,
    ConsentRecord,
    ContactEvent,
    Delivery,
    Member,
    SmsJoin,
    SurveyRespondents,
)
from services.panel.queries import panel_member
from shared.audit import Actor, send_staff_action
from shared.bus import Bus

ERASED = "erased"

# What forget_member removes, in each service, as the confirmation page says it.
ERASURE_EFFECTS = (
    ("Panel", "Email address, phone number and the partner's own id; the profile (age, gender, "
              "ethnic group, disability, ward, deprivation, tenure and extra attributes); "
              "consent history, agency opt-outs, invitation history, their place in closed "
              "surveys' lists of respondents and any unfinished text-message sign-up."),
    ("Panel's contact log", "Kept as counts only: each message loses its subject, text and "
                            "gateway id and gets a new random reference."),
    ("Surveys", "Their invitations get a new random reference and a dead link: their answers "
                "stay in the results, anonymous."),
    ("Feedback", "They are dropped from every report's list of respondents, so no outcome "
                 "message reaches them."),
)


def erase_member(session: Session, bus: Bus, member: Member, now: datetime) -> None:
    """Remove the member's personal data, anonymise the contact log, tell the other services."""
    ref = member.member_ref
    if member.phone:
        session.execute(delete(SmsJoin).where(SmsJoin.phone == member.phone))
    # The contact log keeps its counts, but no row can be tied back to the person.
    session.execute(update(Delivery).where(Delivery.member_ref == ref).values(
        member_ref=str(uuid.uuid4()), subject="", body="", provider_id=None, error=None))
    session.execute(delete(ConsentRecord).where(ConsentRecord.member_id == member.id))
    session.execute(delete(AgencyOptOut).where(AgencyOptOut.member_id == member.id))
    session.execute(delete(ContactEvent).where(ContactEvent.member_id == member.id))
    for answered in session.scalars(select(SurveyRespondents)):
        if ref in answered.member_refs:
            answered.member_refs = [other for other in answered.member_refs if other != ref]
    member.member_ref = str(uuid.uuid4())
    member.email = member.phone = member.external_id = None
    member.age_band = member.gender = member.ethnicity = member.disability = ERASED
    member.area = ERASED
    member.deprivation_decile, member.tenure, member.extra = None, None, {}
    member.campaign_id = None
    member.consent_surveys = member.consent_outcomes = member.consent_recontact = False
    member.status, member.erased_at, member.opted_out_at = "erased", now, now
    bus.send(session, "surveys.member_erased", {"member_ref": ref})
    bus.send(session, "feedback.member_erased", {"member_ref": ref})


def forget_member(session: Session, bus: Bus, actor: Actor, *, member_ref: str,
                  now: datetime) -> None:
    """Erase a member not yet erased (NotFound otherwise), and tell the other services; the
    erasure goes to the audit log (no reference to the member: it is forgotten)."""
    erase_member(session, bus, panel_member(session, member_ref), now)
    send_staff_action(session, bus, actor, "member_erased")
    session.commit()


def access_export(session: Session, *, member_ref: str) -> dict:
    """Subject access: everything held on a member not erased."""
    return subject_access_export(session, panel_member(session, member_ref))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def subject_access_export(session: Session, member: Member) -> dict:
    """Everything panel holds on one member, as plain JSON-ready data."""
    campaign = session.get(Campaign, member.campaign_id) if member.campaign_id else None
    consents = session.scalars(select(ConsentRecord).where(
        ConsentRecord.member_id == member.id).order_by(ConsentRecord.id))
    opt_outs = session.scalars(select(AgencyOptOut).where(AgencyOptOut.member_id == member.id))
    contacts = session.scalars(select(ContactEvent).where(
        ContactEvent.member_id == member.id).order_by(ContactEvent.id))
    deliveries = session.scalars(select(Delivery).where(
        Delivery.member_ref == member.member_ref).order_by(Delivery.id))
    return {
        "member": {
            "member_ref": member.member_ref, "external_id": member.external_id,
            "email": member.email, "phone": member.phone,
            "preferred_channel": member.preferred_channel, "language": member.language,
            "profile": member.profile(), "status": member.status, "source": member.source,
            "campaign": campaign.name if campaign else None,
            "joined_at": _iso(member.joined_at), "confirmed_at": _iso(member.confirmed_at),
            "opted_out_at": _iso(member.opted_out_at),
            "last_contacted_at": _iso(member.last_contacted_at),
        },
        "consent": {"surveys": member.consent_surveys, "outcomes": member.consent_outcomes,
                    "recontact": member.consent_recontact},
        "consent_history": [
            {"purpose": c.purpose, "granted": c.granted, "source": c.source, "agency": c.agency,
             "recorded_at": _iso(c.recorded_at)} for c in consents],
        "agency_opt_outs": [{"agency": o.agency, "recorded_at": _iso(o.recorded_at)}
                            for o in opt_outs],
        "invitations_reserved": [
            {"survey_id": c.survey_id, "sponsors": c.sponsors.split(",") if c.sponsors else [],
             "at": _iso(c.contacted_at)} for c in contacts],
        "messages": [
            {"delivery_ref": d.delivery_ref, "template": d.template, "channel": d.channel,
             "subject": d.subject, "body": d.body, "status": d.status,
             "created_at": _iso(d.created_at), "sent_at": _iso(d.sent_at)} for d in deliveries],
    }
