"""What surveys' entry points read: the surveys an agency sponsors, and what goes with them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from services.surveys.models import (
    Agency,
    ApiKey,
    BankQuestion,
    ExportJob,
    JoinRequest,
    Question,
    Survey,
    SurveySponsor,
)
from shared.errors import NotFound, RuleBroken


def sponsored_by(agency: str):
    """Surveys the agency sponsors, with their sponsors, questions and join requests."""
    return (
        select(Survey)
        .where(Survey.id.in_(select(SurveySponsor.survey_id).where(SurveySponsor.agency == agency)))
        .options(selectinload(Survey.sponsors), selectinload(Survey.questions),
                 selectinload(Survey.join_requests))
    )


def sponsored_surveys(agency: str, status: str | None = None):
    """The agency's surveys, newest first, narrowed to one status when given."""
    statement = sponsored_by(agency).order_by(Survey.id.desc())
    return statement.where(Survey.status == status) if status else statement


def sponsored_surveys_matching(agency: str, *, statuses: list[str], search: str | None):
    """The agency's surveys, newest first, in any of these statuses (none: all), with the
    words searched for in their titles."""
    statement = sponsored_by(agency).order_by(Survey.id.desc())
    if statuses:
        statement = statement.where(Survey.status.in_(statuses))
    if search:
        statement = statement.where(Survey.title.icontains(search, autoescape=True))
    return statement


def sponsored_survey(session: Session, *, agency: str, survey_id: int) -> Survey:
    """The survey when the agency sponsors it; otherwise as if it did not exist."""
    survey = session.scalar(sponsored_by(agency).where(Survey.id == survey_id))
    if survey is None:
        raise NotFound("No such survey.")
    return survey


def led_survey(session: Session, *, agency: str, survey_id: int, doing: str) -> Survey:
    """The survey when the agency leads it: 403 for a co-sponsor, 404 for the rest.

    Only the lead agency launches and closes: a co-sponsor agreed to a share of the lead's
    survey, not to decide when it starts or stops.
    """
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    if survey.lead_agency != agency:
        lead = session.get(Agency, survey.lead_agency)
        raise RuleBroken(f"Only the lead agency, {lead.name}, {doing} this survey; your "
                         "agency co-sponsors it.", status=403)
    return survey


def agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.slug)))


def join_requests(session: Session, *, agency: str, survey_id: int) -> list[JoinRequest]:
    """Requests to co-sponsor a survey the agency sponsors, oldest first."""
    sponsored_survey(session, agency=agency, survey_id=survey_id)
    return list(session.scalars(select(JoinRequest).where(JoinRequest.survey_id == survey_id)
                                .order_by(JoinRequest.id)))


def invitations_to(session: Session, *, agency: str) -> list[JoinRequest]:
    """Invitations to the agency to co-sponsor other agencies' drafts, newest first."""
    return list(session.scalars(
        select(JoinRequest).where(JoinRequest.kind == "invitation", JoinRequest.agency == agency)
        .options(selectinload(JoinRequest.survey)).order_by(JoinRequest.id.desc())))


def invitation_to(session: Session, *, agency: str, invitation_id: int) -> JoinRequest:
    invitation = session.get(JoinRequest, invitation_id)
    if invitation is None or invitation.kind != "invitation" or invitation.agency != agency:
        raise NotFound("No such invitation.")
    return invitation


def keys_of(session: Session, *, agency: str) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.agency == agency)
                                .order_by(ApiKey.id.desc())))


def bank_questions(session: Session, *, search: str | None = None) -> list[BankQuestion]:
    statement = select(BankQuestion).order_by(BankQuestion.code)
    if search:
        statement = statement.where(BankQuestion.code.contains(search.lower()))
    return list(session.scalars(statement))


def bank_usage(session: Session) -> list[tuple[str, Survey]]:
    """(bank code, survey) for every survey asking a bank question, oldest survey first."""
    return list(session.execute(
        select(Question.bank_code, Survey).join(Survey, Question.survey_id == Survey.id)
        .where(Question.bank_code.is_not(None))
        .options(selectinload(Survey.sponsors))
        .order_by(Survey.id)).all())


def surveys_asking(session: Session, *, agency: str, code: str) -> list[Survey]:
    """The agency's surveys asking this bank question, oldest first."""
    if session.get(BankQuestion, code) is None:
        raise NotFound("No such question in the bank.")
    return list(session.scalars(
        sponsored_by(agency)
        .where(Survey.id.in_(select(Question.survey_id).where(Question.bank_code == code)))
        .order_by(Survey.id)))


def own_export(session: Session, *, agency: str, export_id: int,
               with_content: bool = False) -> ExportJob:
    """The agency's export; another agency's answers as if it did not exist."""
    statement = select(ExportJob).where(ExportJob.id == export_id, ExportJob.agency == agency)
    if with_content:
        statement = statement.options(undefer(ExportJob.content))
    job = session.scalar(statement)
    if job is None:
        raise NotFound("No such export.")
    return job


def agency_exports(session: Session, *, agency: str, limit: int = 20) -> list[ExportJob]:
    """The agency's latest exports, newest first (their files left unread)."""
    return list(session.scalars(select(ExportJob).where(ExportJob.agency == agency)
                                .order_by(ExportJob.id.desc()).limit(limit)))
