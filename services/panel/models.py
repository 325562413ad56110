"""Panel members with their personal data and consent, the delivery log, and the bus tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.auth import ApiKeyMixin
from shared.bus import InboxMixin, OutboxMixin, utcnow


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class ApiKey(ApiKeyMixin, Base):
    __tablename__ = "api_keys"


def new_member_ref() -> str:
    return str(uuid.uuid4())


class Member(Base):
    """A panel member: personal data (email, phone) lives here and nowhere else."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_ref: Mapped[str] = mapped_column(String(36), unique=True, default=new_member_ref)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    preferred_channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(10), default="en")
    age_band: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(20))
    ethnicity: Mapped[str] = mapped_column(String(20))
    disability: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(20), index=True)
    consent_surveys: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_outcomes: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def profile(self) -> dict:
        return {
            "age_band": self.age_band,
            "gender": self.gender,
            "ethnicity": self.ethnicity,
            "disability": self.disability,
            "area": self.area,
        }


class ConsentRecord(Base):
    """Every grant or withdrawal of consent, with when and how it was given."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Delivery(Base):
    """One message to one member: the contact log, keyed so nothing is ever sent twice."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_ref: Mapped[str] = mapped_column(String(200), unique=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    member_ref: Mapped[str] = mapped_column(String(36), index=True)
    template: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
