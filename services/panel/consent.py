"""Consent per purpose and per agency, and withdrawal that stops every agency's contact at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.models import AgencyOptOut, ConsentRecord, Member
from services.panel.queries import find_member, panel_member
from shared.errors import NotFound
from shared.signing import sign, unsign
from shared.statuses import DeliveryStatus

PURPOSES = ("surveys", "outcomes", "recontact")


def set_consent(session: Session, member: Member, purpose: str, granted: bool, *,
                source: str, agency: str | None = None, now: datetime | None = None) -> None:
    """Record a grant or withdrawal of one purpose, with when and how it came."""
    setattr(member, f"consent_{purpose}", granted)
    record = ConsentRecord(member_id=member.id, purpose=purpose, granted=granted,
                           source=source, agency=agency)
    if now is not None:
        record.recorded_at = now
    session.add(record)


def withdraw_everything(session: Session, member: Member, *, source: str, now: datetime) -> None:
    """STOP / unsubscribe: no agency may contact the member again, by any channel."""
    member.opted_out_at = now
    for purpose in PURPOSES:
        set_consent(session, member, purpose, False, source=source, now=now)


def resume(session: Session, member: Member, *, source: str, now: datetime) -> None:
    """START after STOP: the member is back for surveys and outcome messages."""
    member.opted_out_at = None
    for purpose in ("surveys", "outcomes"):
        set_consent(session, member, purpose, True, source=source, now=now)


def opt_out_of_agency(session: Session, member: Member, agency: str, *, source: str) -> None:
    exists = session.scalar(select(AgencyOptOut).where(
        AgencyOptOut.member_id == member.id, AgencyOptOut.agency == agency))
    if exists is None:
        session.add(AgencyOptOut(member_id=member.id, agency=agency))
        session.add(ConsentRecord(member_id=member.id, purpose="surveys", granted=False,
                                  source=source, agency=agency))


def change_consent(session: Session, *, member_ref: str, changes: dict, agency: str) -> Member:
    """A manager records the member's grants and withdrawals (ConsentChangeSchema's data);
    a purpose already as asked is left alone, so its history shows only real changes."""
    member = panel_member(session, member_ref)
    for purpose in PURPOSES:
        if purpose in changes and getattr(member, f"consent_{purpose}") != changes[purpose]:
            set_consent(session, member, purpose, changes[purpose], source=changes["source"],
                        agency=agency)
    session.commit()
    return member


def record_agency_opt_out(session: Session, *, member_ref: str, agency: str,
                          caller_agency: str, source: str | None = None) -> Member:
    """The member wants nothing from `agency`, as the caller's agency heard (through the API
    unless `source` says otherwise)."""
    member = panel_member(session, member_ref)
    opt_out_of_agency(session, member, agency, source=source or f"api:{caller_agency}")
    session.commit()
    return member


def unsubscribe_by_link(session: Session, *, member_ref: str | None, confirm: bool,
                        now: datetime) -> bool:
    """Withdraw the member an unsubscribe link names from everything when `confirm`; whether
    they get no more messages. A link of ours whose member was erased says so too: there is
    nobody left to send to."""
    if member_ref is None:
        raise NotFound("This link does not work",
                       errors={"link": ["Reply STOP to any text from us, or contact us."]})
    member = find_member(session, member_ref)
    if member is None:
        return True
    if confirm and member.opted_out_at is None:
        withdraw_everything(session, member, source="unsubscribe-link", now=now)
        session.commit()
    return member.opted_out_at is not None


def may_receive(member: Member, template: str) -> DeliveryStatus | None:
    """Why this member may not get this kind of message, as a delivery status, or None."""
    if member.status == "erased" or member.opted_out_at is not None:
        return DeliveryStatus.OPTED_OUT
    needed = {"invitation": member.consent_surveys, "reminder": member.consent_surveys,
              "dialogue": member.consent_surveys, "outcome": member.consent_outcomes,
              "progress": member.consent_outcomes}.get(template, True)
    return None if needed else DeliveryStatus.NO_CONSENT


def member_token(secret: str, member_ref: str, salt: str = "unsubscribe") -> str:
    """An opaque signed token naming the member: unsubscribe and confirm links carry it."""
    return sign(secret, f"panel.{salt}", member_ref)


def member_from_token(secret: str, token: str, salt: str = "unsubscribe") -> str | None:
    return unsign(secret, f"panel.{salt}", token)
