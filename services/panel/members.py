"""Adding members to the panel, with their consent recorded as given."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.panel.contacts import normalise_phone
from services.panel.models import ConsentRecord, Member


class DuplicateMember(ValueError):
    """Someone with this email address or phone number is already on the panel."""

    def __init__(self, field: str):
        super().__init__(f"a member with this {field} is already on the panel")
        self.field = field


def add_member(session: Session, *, data: dict, source: str, allow_drama_range: bool) -> Member:
    email = data["email"].strip().lower() if data.get("email") else None
    phone = normalise_phone(data["phone"], allow_drama_range) if data.get("phone") else None
    clauses = [Member.email == email] if email else []
    clauses += [Member.phone == phone] if phone else []
    if clauses:
        existing = session.scalar(select(Member).where(or_(*clauses)).limit(1))
        if existing is not None:
            raise DuplicateMember("email" if email and existing.email == email else "phone")
    member = Member(
        email=email,
        phone=phone,
        preferred_channel=data["preferred_channel"],
        language=data.get("language", "en"),
        consent_surveys=data["consent"]["surveys"],
        consent_outcomes=data["consent"]["outcomes"],
        **data["profile"],
    )
    session.add(member)
    session.flush()
    for purpose in ("surveys", "outcomes"):
        session.add(
            ConsentRecord(
                member_id=member.id, purpose=purpose, granted=data["consent"][purpose], source=source
            )
        )
    return member
