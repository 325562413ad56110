"""Panel members with their personal data and consent, the contact log, targets, campaigns,
imports, the delivery log, and the bus tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.auth import ApiKeyMixin
from shared.bus import InboxMixin, OutboxMixin, utcnow
from shared.db import UtcDateTime
from shared.messages import PROFILE_DIMENSIONS
from shared.statuses import DeliveryStatus


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
    """A panel member: personal data (email, phone) lives here and nowhere else.

    `last_contacted_at` and `cap_free_at` are kept from the contact log when an invitation is
    reserved, so a draw can tell who is under the cap without reading every contact event.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_ref: Mapped[str] = mapped_column(String(36), unique=True, default=new_member_ref)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    # Unique in the database too: two sign-ups at once cannot both pass the check.
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True,
                                              unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True,
                                              unique=True)
    preferred_channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(10), default="en")
    age_band: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(20))
    ethnicity: Mapped[str] = mapped_column(String(20))
    disability: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(20), index=True)
    deprivation_decile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tenure: Mapped[str | None] = mapped_column(String(20), nullable=True)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    # "pending" until the double opt-in is confirmed; "erased" keeps only the row's shell.
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    source: Mapped[str] = mapped_column(String(40), default="api")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True, index=True)
    consent_surveys: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_outcomes: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recontact: Mapped[bool] = mapped_column(Boolean, default=False)
    # STOP / unsubscribe: no agency may contact the member at all, by any channel.
    opted_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_contacted_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), nullable=True)
    cap_free_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    def profile(self) -> dict:
        return profile_of([getattr(self, d) for d in PROFILE_DIMENSIONS], self.extra)


def profile_of(values: Sequence, extra: dict | None) -> dict:
    """The non-identifying profile other services see: PROFILE_DIMENSIONS' values and extras."""
    return {**dict(zip(PROFILE_DIMENSIONS, values, strict=True)), "extra": dict(extra or {})}


class DrawProfile(Base):
    """One distinct profile (channel and PROFILE_DIMENSIONS) of the drawable members: a draw
    sorts these few rows into its cells instead of reading every member's strings."""

    __tablename__ = "draw_profiles"
    __table_args__ = (UniqueConstraint("key", name="uq_draw_profiles_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    preferred_channel: Mapped[str] = mapped_column(String(10))
    age_band: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(20))
    ethnicity: Mapped[str] = mapped_column(String(20))
    disability: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(20))
    deprivation_decile: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tenure: Mapped[str | None] = mapped_column(String(20), nullable=True)


class DrawPoolMember(Base):
    """A member a draw may consider: active, consenting to surveys, not opted out, with their
    profile's number and cap state. Written only by the triggers on members (migration
    d5e1a7c94b20), so it follows every write to members, bulk ones included; a draw reads
    this narrow table, and reserve() checks the members row itself under its lock."""

    __tablename__ = "draw_pool"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    profile_id: Mapped[int] = mapped_column(ForeignKey("draw_profiles.id"))
    last_day: Mapped[int] = mapped_column(Integer)  # UTC day of last_contacted_at; 0 = never
    cap_free_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ConsentRecord(Base):
    """Every grant or withdrawal of consent, with when and how it was given."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(40))
    agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AgencyOptOut(Base):
    """A member who wants nothing from one agency (surveys it sponsors are never drawn for them)."""

    __tablename__ = "agency_opt_outs"
    __table_args__ = (UniqueConstraint("member_id", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ContactEvent(Base):
    """One invitation reserved for a member by a draw: the log the contact cap counts."""

    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_member_time", "member_id", "contacted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(Integer, index=True)
    draw_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sponsors: Mapped[str] = mapped_column(String(400), default="")
    cell: Mapped[str] = mapped_column(String(400), default="")
    contacted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PopulationTarget(Base):
    """A census margin: how many people of one category of one dimension live in an area."""

    __tablename__ = "population_targets"
    __table_args__ = (UniqueConstraint("area", "dimension", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vintage: Mapped[str] = mapped_column(String(40))
    area: Mapped[str] = mapped_column(String(20), index=True)
    # The name people read ("Riverside Central"), when the census file gave one.
    area_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    dimension: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    population: Mapped[float] = mapped_column(Float)


class Campaign(Base):
    """A recruitment drive aimed at a group, with its own join link code and SMS keyword."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # The group aimed at: {dimension: [values]}, e.g. {"age_band": ["16-24"], "area": [...]}.
    target_group: Mapped[dict] = mapped_column(JSON, default=dict)
    cost: Mapped[float | None] = mapped_column(Numeric(12, 2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SurveyRespondents(Base):
    """Who answered a survey that closed (surveys tells panel): its title and sponsors, and
    the respondents' refs, so a sponsor can see how well they represent the place."""

    __tablename__ = "survey_respondents"

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    sponsors: Mapped[list] = mapped_column(JSON, default=list)
    sponsor_names: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    member_refs: Mapped[list] = mapped_column(JSON, default=list)


class AgencyName(Base):
    """The name of a partner agency, as surveys (which keeps the agencies) announced it."""

    __tablename__ = "agency_names"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class DrawnBatch(Base):
    """A batch of a draw's members that surveys has not been told of yet. A draw keeps all
    its batches in the commit that reserves its members, then tells them one commit each
    (services/panel/draws.py): the first leaves while the rest are built, and a draw stopped
    between two resumes at the batch it had reached."""

    __tablename__ = "drawn_batches"
    __table_args__ = (UniqueConstraint("draw_key", "number", name="uq_drawn_batches_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draw_key: Mapped[str] = mapped_column(String(64))  # the draw request's message id
    number: Mapped[int] = mapped_column(Integer)
    survey_id: Mapped[int] = mapped_column(Integer)
    draw_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    member_ids: Mapped[list] = mapped_column(JSON)
    shortfall: Mapped[int] = mapped_column(Integer)
    cells: Mapped[list] = mapped_column(JSON)  # the whole draw's cells, on its first batch
    kept_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MemberImport(Base):
    """One bulk CSV import: its rows, its progress and every bad row with line, field, reason."""

    __tablename__ = "member_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SmsJoin(Base):
    """A JOIN dialogue by SMS in progress: the next question and the answers so far."""

    __tablename__ = "sms_joins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True)
    step: Mapped[str] = mapped_column(String(20))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InboundSms(Base):
    """An inbound SMS already acted on, by the gateway's id: a replayed webhook does nothing."""

    __tablename__ = "inbound_sms"

    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Delivery(Base):
    """One message to one member: the contact log, keyed so nothing is ever sent twice."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_ref: Mapped[str] = mapped_column(String(200), unique=True)
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    member_ref: Mapped[str] = mapped_column(String(36), index=True)
    template: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING, index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When it was last claimed ("sending"): one still claimed long after is swept up.
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # An outcome surveys has not been told yet: set with the outcome, cleared in the commit
    # that puts the report carrying it in the outbox (services/panel/sending.py).
    unreported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_deliveries_unreported", "batch_id",
                            postgresql_where=text("unreported"), sqlite_where=text("unreported")),)
