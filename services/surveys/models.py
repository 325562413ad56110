"""Agencies, surveys and their questions, invitations, responses, and the bus tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.auth import ApiKeyMixin
from shared.bus import InboxMixin, OutboxMixin, utcnow
from shared.db import UtcDateTime
from shared.statuses import ExportStatus, InvitationStatus, JoinRequestStatus, SurveyStatus


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class ApiKey(ApiKeyMixin, Base):
    __tablename__ = "api_keys"


class Agency(Base):
    """A partner agency: council, police, health trust, housing association, college."""

    __tablename__ = "agencies"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class StaffUser(Base):
    """A member of an agency's staff who signs in to the console: by an emailed link, or by
    their agency's own identity provider (`oidc_subject` ties the two once first used)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.slug"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    # A draft may leave these empty; a survey cannot launch without them.
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decision_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    lead_agency: Mapped[str] = mapped_column(ForeignKey("agencies.slug"))
    sample_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=SurveyStatus.DRAFT.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    areas: Mapped[list] = mapped_column(JSON, default=list)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    fieldwork_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    fieldwork_end: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    target_completes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"cell": {"age_band": "16-24"}, "target": 50}]: completed responses wanted per cell.
    quotas: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=lambda: ["web", "sms_link"])
    # Days after launch on which non-responders are reminded, e.g. [3, 7].
    reminder_days: Mapped[list] = mapped_column(JSON, default=list)
    languages: Mapped[list] = mapped_column(JSON, default=lambda: ["en"])
    # {"cy": {"title": "...", "summary": "..."}}: its own texts in other languages.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    top_ups: Mapped[int] = mapped_column(Integer, default=0)
    # Whether other agencies may ask to co-sponsor it (while it is a draft).
    open_to_join: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    sponsors: Mapped[list[SurveySponsor]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="SurveySponsor.agency"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="Question.position"
    )
    join_requests: Mapped[list[JoinRequest]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="JoinRequest.id"
    )


class SurveySponsor(Base):
    """An agency sponsoring a survey: it may read the survey and its results."""

    __tablename__ = "survey_sponsors"
    __table_args__ = (UniqueConstraint("survey_id", "agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.slug"), index=True)
    cost_share: Mapped[float] = mapped_column(Numeric(5, 2))

    survey: Mapped[Survey] = relationship(back_populates="sponsors")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    scale_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scale_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scale_labels: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    min_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # {"question": "<earlier code>", "in": ["Yes"]}: asked only when that answer was given.
    show_if: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # {"cy": {"text": "...", "options": [...], "labels": [...]}}: texts in other languages.
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    # The agency whose module added it (a co-sponsor's questions), None for the lead's.
    module_agency: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bank_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")


class Invitation(Base):
    """One member invited to one survey: the token of their link and their profile then."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("survey_id", "member_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    member_ref: Mapped[str] = mapped_column(String(36), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    profile: Mapped[dict] = mapped_column(JSON)
    delivery_status: Mapped[str] = mapped_column(String(20),
                                                 default=InvitationStatus.QUEUED.value)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    language: Mapped[str] = mapped_column(String(10), default="en")
    draw_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The SMS dialogue: the question awaiting a reply, and unreadable replies to it so far.
    dialogue_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dialogue_misses: Mapped[int] = mapped_column(Integer, default=0)
    dialogue_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SavedAnswer(Base):
    """An answer given before the response is complete: progress kept between visits and SMS."""

    __tablename__ = "saved_answers"
    __table_args__ = (UniqueConstraint("invitation_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"),
                                               index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    # None: skipped on purpose (an optional question answered SKIP).
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class BankQuestion(Base):
    """A shared question with a stable code, reused by any agency so results merge over time."""

    __tablename__ = "question_bank"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict] = mapped_column(JSON)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.slug"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class JoinRequest(Base):
    """Co-sponsoring a draft by consent, either way round.

    kind "request": another agency asks to join with its own module of questions, and the
    lead decides. kind "invitation": the lead named the agency as a sponsor, proposing
    `cost_share`, and the agency decides. Until it is approved the agency is no sponsor.
    """

    __tablename__ = "join_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.slug"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=JoinRequestStatus.PENDING.value)
    kind: Mapped[str] = mapped_column(String(20), default="request", server_default="request")
    cost_share: Mapped[float | None] = mapped_column(Numeric(5, 2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    survey: Mapped[Survey] = relationship(back_populates="join_requests")


class SmsReplyReceived(Base):
    """An SMS reply already read, by the gateway's id: the same text arriving again is ignored."""

    __tablename__ = "sms_replies_received"

    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Response(Base):
    """A submitted response: one per invitation, ever."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="web")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Indexed by the unique constraint, which leads with it.
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"),
                                             index=True)
    value: Mapped[str] = mapped_column(Text)


class PopulationTarget(Base):
    """A census margin copied from panel: the population of one category in one area."""

    __tablename__ = "population_targets"
    __table_args__ = (UniqueConstraint("area", "dimension", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vintage: Mapped[str] = mapped_column(String(40))
    area: Mapped[str] = mapped_column(String(20), index=True)
    # The name people read ("Riverside Central"), when the census file gave one.
    area_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    dimension: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(80))
    population: Mapped[float] = mapped_column(Numeric(14, 2))


class AreaContactCap(Base):
    """Panel's latest count of one area's members resting under the contact cap (counts only,
    never who), for the partnership calendar; replaced whole by each newer count."""

    __tablename__ = "area_contact_caps"

    area: Mapped[str] = mapped_column(String(20), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)  # who may be invited at all
    at_cap: Mapped[int] = mapped_column(Integer)
    next_free_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    all_free_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    measured_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EligibilityCheck(Base):
    """A pre-launch question to panel (panel.count_eligible) and, once it answers
    (surveys.eligible_counts), its counts per quota cell. `fingerprint` is the draw request's
    (sponsors, quotas, areas, channels): a survey changed since is asked again."""

    __tablename__ = "eligibility_checks"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    measured_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cells: Mapped[list | None] = mapped_column(JSON, nullable=True)


class AuditLog(Base):
    """One staff action or pull of analysis data: who (agency, role, the staff member's email
    or the API key's prefix), what (action, surveys, detail), where (service) and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    key_prefix: Mapped[str] = mapped_column(String(16), default="")
    actor: Mapped[str] = mapped_column(String(320), default="", index=True)
    service: Mapped[str] = mapped_column(String(16), default="surveys")
    action: Mapped[str] = mapped_column(String(40))
    survey_ids: Mapped[list] = mapped_column(JSON, default=list)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(Integer, default=0)


class ExportJob(Base):
    """A respondent-level export built by the worker; the file is kept here until fetched."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    key_prefix: Mapped[str] = mapped_column(String(16), default="")
    # The staff member who asked in the console (their email), as the audit log names them.
    actor: Mapped[str] = mapped_column(String(320), default="")
    survey_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Weighted by these (none: every dimension the population figures cover).
    dimensions: Mapped[list] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(10))
    form: Mapped[str] = mapped_column(String(10), default="wide")
    status: Mapped[str] = mapped_column(String(20), default=ExportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    # Kept in the database, not on a disk, so web and worker need not share one.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AnalysisCell(Base):
    """A count of one survey's respondents (question "") or answers sharing a profile cell.

    Tables and weights read these few thousand rows instead of a million responses, and
    sum them per cell: responses newer than the last count add rows of their own.
    """

    __tablename__ = "analysis_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           index=True)
    question: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text, default="")
    age_band: Mapped[str | None] = mapped_column(String(40), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ethnicity: Mapped[str | None] = mapped_column(String(40), nullable=True)
    disability: Mapped[str | None] = mapped_column(String(40), nullable=True)
    area: Mapped[str | None] = mapped_column(String(40), nullable=True)
    deprivation_decile: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tenure: Mapped[str | None] = mapped_column(String(40), nullable=True)
    count: Mapped[int] = mapped_column(Integer)


class AnalysisCellsBuilt(Base):
    """Up to which response a survey's analysis cells were counted."""

    __tablename__ = "analysis_cells_built"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           primary_key=True)
    last_response_id: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ThemeRun(Base):
    """One run of theme finding over a free-text question's answers, by the worker: its
    progress, and what it found (each theme's words and answers, strongest first) before
    any analyst's edits, which are applied to it afresh (`theme_edits`)."""

    __tablename__ = "theme_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=ExportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Theme(Base):
    """A theme of a free-text question as it stands: the latest run with every edit applied.
    Replaced whole after each run and each edit."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("theme_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    words: Mapped[list] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(10), default="en")
    answer_ids: Mapped[list] = mapped_column(JSON, default=list)  # strongest first
    count: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)  # of the question's answers
    weighted_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    quote_ids: Mapped[list] = mapped_column(JSON, default=list)


class ThemeEdit(Base):
    """An analyst's or officer's edit of a question's themes, kept as a rule applied after
    every run: rename, merge, split, move an answer, do not quote an answer. A theme is
    named by the answers it held when the edit was made (its anchor)."""

    __tablename__ = "theme_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"),
                                           index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
