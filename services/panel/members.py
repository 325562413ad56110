"""Adding members to the panel, with their consent recorded as given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.panel.consent import set_consent
from services.panel.contacts import normalise_mobile
from services.panel.models import ConsentRecord, Member
from services.panel.queries import find_member
from shared.bus import Bus
from shared.errors import NotFound, RuleBroken
from shared.profile import PROFILE_DIMENSIONS


class DuplicateMember(RuleBroken):
    """Someone with this email address, phone number or external id is already on the panel."""

    def __init__(self, field: str):
        message = f"a member with this {field.replace('_', ' ')} is already on the panel"
        super().__init__(message, errors={field: [message]}, status=409)
        self.field = field


def normalised_contacts(data: dict, allow_drama_range: bool) -> tuple[str | None, str | None]:
    email = data["email"].strip().lower() if data.get("email") else None
    phone = normalise_mobile(data["phone"], allow_drama_range) if data.get("phone") else None
    return email, phone


def existing_member(session: Session, email: str | None, phone: str | None,
                    ignore_id: int | None = None) -> Member | None:
    """A member (other than `ignore_id`) who already has this email address or phone number."""
    clauses = [Member.email == email] if email else []
    clauses += [Member.phone == phone] if phone else []
    if not clauses:
        return None
    query = select(Member).where(or_(*clauses))
    if ignore_id is not None:
        query = query.where(Member.id != ignore_id)
    return session.scalar(query.limit(1))


def find_duplicate(session: Session, email: str | None, phone: str | None,
                   ignore_id: int | None = None) -> str | None:
    """The field ("email" or "phone") another member already has, or None."""
    existing = existing_member(session, email, phone, ignore_id)
    if existing is None:
        return None
    return "email" if email and existing.email == email else "phone"


def _external_id_taken(session: Session, external_id: str | None) -> str | None:
    """"external_id" when another member has it (the partnership's own id is unique)."""
    if external_id and session.scalar(select(Member.id).where(
            Member.external_id == external_id).limit(1)) is not None:
        return "external_id"
    return None


def add_member(session: Session, *, data: dict, source: str, allow_drama_range: bool,
               status: str = "active", campaign_id: int | None = None) -> Member:
    email, phone = normalised_contacts(data, allow_drama_range)
    duplicate = find_duplicate(session, email, phone) or _external_id_taken(
        session, data.get("external_id"))
    if duplicate:
        raise DuplicateMember(duplicate)
    profile = data["profile"]
    consent = data["consent"]
    member = Member(
        email=email,
        phone=phone,
        external_id=data.get("external_id"),
        preferred_channel=data["preferred_channel"],
        language=data.get("language") or "en",
        consent_surveys=consent["surveys"],
        consent_outcomes=consent["outcomes"],
        consent_recontact=consent.get("recontact", False),
        status=status,
        source=source,
        campaign_id=campaign_id,
        extra=dict(profile.get("extra") or {}),
        **{k: profile.get(k) for k in PROFILE_DIMENSIONS},
    )
    try:
        # In a savepoint: a sign-up that loses a race to the same email or phone is refused
        # like any duplicate, and the caller's transaction carries on.
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:
        duplicate = find_duplicate(session, email, phone) or _external_id_taken(
            session, data.get("external_id"))
        if duplicate is None:
            raise
        raise DuplicateMember(duplicate) from None
    for purpose in ("surveys", "outcomes", "recontact"):
        session.add(ConsentRecord(member_id=member.id, purpose=purpose,
                                  granted=bool(consent.get(purpose, False)), source=source))
    return member


def add_panel_member(session: Session, *, data: dict, source: str,
                     allow_drama_range: bool) -> Member:
    """A manager adds someone to the panel (MemberCreateSchema's data); DuplicateMember if
    their email, phone or external id is already there."""
    member = add_member(session, data=data, source=source, allow_drama_range=allow_drama_range)
    session.commit()
    return member


def confirm_by_link(session: Session, *, member_ref: str | None, confirm: bool,
                    now: datetime) -> Member:
    """The member a confirmation link names, made active when `confirm` (the button pressed)."""
    member = find_member(session, member_ref)
    if member is None or member.status == "erased":
        raise NotFound("This link does not work",
                       errors={"link": ["Sign up again from the join page."]})
    if confirm and member.status == "pending":
        member.status, member.confirmed_at = "active", now
        set_consent(session, member, "surveys", True, source="email-link")
        session.commit()
    return member


def sign_up(session: Session, bus: Bus, *, data: dict, campaign_id: int | None,
            allow_drama_range: bool) -> None:
    """A join page sign-up (JoinFormSchema's data): a pending member and their confirmation.

    An address or number already on the panel is answered exactly like a new one, so the page
    tells a stranger nothing; the member it belongs to is told instead, on that channel.
    """
    channel = data["preferred_channel"]
    contacts = {"email": data["email"] if channel == "email" else None,
                "phone": data["phone"] if channel == "sms" else None}
    try:
        member = add_member(session, source="join-page", status="pending",
                            allow_drama_range=allow_drama_range, campaign_id=campaign_id, data={
                                **contacts, "preferred_channel": channel,
                                "language": data["language"],
                                "profile": {k: data[k] for k in PROFILE_DIMENSIONS},
                                "consent": {"surveys": True,
                                            "outcomes": data["consent_outcomes"] is not None}})
    except DuplicateMember:
        existing = existing_member(session, *normalised_contacts(contacts, allow_drama_range))
        if existing is not None:
            bus.send(session, "panel.confirm_join", {
                "member_ref": existing.member_ref, "already_joined": True, "channel": channel})
        session.commit()
        return
    bus.send(session, "panel.confirm_join", {"member_ref": member.member_ref})
    session.commit()
