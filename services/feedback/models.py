""""You said, we did" reports, who answered each survey, and the bus tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Report(Base):
    """The feedback report of one closed survey: drafted from results, completed, published."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    decision_owner: Mapped[str] = mapped_column(String(200))
    decision_due: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    invited: Mapped[int] = mapped_column(Integer)
    respondents: Mapped[int] = mapped_column(Integer)
    results: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    we_did: Mapped[str | None] = mapped_column(Text, nullable=True)
    why: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sponsors: Mapped[list[ReportSponsor]] = relationship(
        cascade="all, delete-orphan", order_by="ReportSponsor.agency")


class ReportSponsor(Base):
    __tablename__ = "report_sponsors"
    __table_args__ = (UniqueConstraint("report_id", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)


class Respondent(Base):
    """A member who answered a report's survey, to be told its outcome."""

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("report_id", "member_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    member_ref: Mapped[str] = mapped_column(String(36), index=True)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
