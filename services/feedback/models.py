""""You said, we did" reports, who answered each survey, and the bus tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.auth import ApiKeyMixin
from shared.bus import InboxMixin, OutboxMixin, utcnow
from shared.db import UtcDateTime
from shared.statuses import CommitmentStatus, ReportStatus


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
    # The survey's title in its other languages: {"cy": "…"}.
    title_translations: Mapped[dict] = mapped_column(JSON, default=dict)
    purpose: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    decision_owner: Mapped[str] = mapped_column(String(200))
    decision_due: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    invited: Mapped[int] = mapped_column(Integer)
    respondents: Mapped[int] = mapped_column(Integer)
    # Respondents by the channel they were invited by: {"email": 40, "sms": 12}.
    respondent_channels: Mapped[dict] = mapped_column(JSON, default=dict)
    results: Mapped[list] = mapped_column(JSON)
    weighting: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    representation: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.DRAFT, index=True)
    we_did: Mapped[str | None] = mapped_column(Text, nullable=True)
    why: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # follows / partly_follows / goes_against what most respondents preferred.
    decision_relation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The question the decision answers and the answer it chose, to check the stated relation.
    preference_question: Mapped[str | None] = mapped_column(String(100), nullable=True)
    chosen_answer: Mapped[str | None] = mapped_column(String(500), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When a commitment of the published report last had news respondents have not all heard.
    news_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    sponsors: Mapped[list[ReportSponsor]] = relationship(
        cascade="all, delete-orphan", order_by="ReportSponsor.agency")
    tags: Mapped[list[ReportTag]] = relationship(
        cascade="all, delete-orphan", order_by="(ReportTag.kind, ReportTag.value)")
    commitments: Mapped[list[Commitment]] = relationship(
        cascade="all, delete-orphan", order_by="Commitment.id")

    def tag_values(self, kind: str) -> list[str]:
        return [tag.value for tag in self.tags if tag.kind == kind]


class ReportSponsor(Base):
    __tablename__ = "report_sponsors"
    __table_args__ = (UniqueConstraint("report_id", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    # The agency's name as surveys knew it when the survey closed (null before it sent names).
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReportTag(Base):
    """An area or a topic of a report's survey, for the public list's filters."""

    __tablename__ = "report_tags"
    __table_args__ = (UniqueConstraint("report_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "area" or "topic"
    value: Mapped[str] = mapped_column(String(100), index=True)


class Commitment(Base):
    """An action an agency promised in a report, tracked to completion."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    # Who in the agency answers for it, like "Head of Libraries".
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=CommitmentStatus.PLANNED)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    dropped_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    updates: Mapped[list[CommitmentUpdate]] = relationship(
        cascade="all, delete-orphan", order_by="CommitmentUpdate.id")


class CommitmentUpdate(Base):
    """A dated note of progress on a commitment, with the status it left it in."""

    __tablename__ = "commitment_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True)
    written_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OverdueFlag(Base):
    """A report flagged to one sponsor agency because nothing was published in time."""

    __tablename__ = "overdue_flags"
    __table_args__ = (UniqueConstraint("report_id", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    first_flagged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_flagged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    days_overdue: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class Respondent(Base):
    """A member who answered a report's survey, to be told its outcome."""

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("report_id", "member_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    member_ref: Mapped[str] = mapped_column(String(36), index=True)
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The last news of this report's commitments they were told of, and the last message
    # of any kind: progress messages wait until a week after it.
    progress_told_at: Mapped[datetime | None] = mapped_column(UtcDateTime,
                                                              nullable=True)
    last_told_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True,
                                                          index=True)
