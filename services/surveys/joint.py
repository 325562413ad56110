"""Joint surveys by consent: an agency asks to co-sponsor a draft and the lead decides, or the
lead invites an agency and that agency decides. Nobody becomes a sponsor unasked."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.lifecycle import SurveyRuleBroken, build_questions, resolve_bank_questions
from services.surveys.models import JoinRequest, Survey, SurveySponsor
from services.surveys.overlap import open_to_join
from services.surveys.queries import invitation_to, sponsored_survey
from services.surveys.schemas import check_question_module
from shared.bus import utcnow
from shared.errors import NotFound, RuleBroken
from shared.statuses import JoinRequestStatus, SurveyStatus, may_move

PENDING = JoinRequestStatus.PENDING


class NotOpenToJoin(NotFound):
    """The survey takes no requests to join: answered exactly as a survey that does not exist."""

    def __init__(self, survey_id: int | None = None):
        super().__init__("No such survey.")


def knows_of(survey: Survey, agency: str) -> bool:
    """Whether the agency sponsors the survey or is invited to: it may be told its state."""
    return any(s.agency == agency for s in survey.sponsors) or any(
        r.kind == "invitation" and r.agency == agency for r in survey.join_requests)


def _as_definition(question) -> dict:
    return {"code": question.code, "type": question.type, "options": question.options}


def request_to_join(session: Session, survey: Survey, agency: str, data: dict) -> JoinRequest:
    """Ask to co-sponsor; NotOpenToJoin unless the survey is open to join or known to the agency.

    An agency that does not sponsor the survey learns nothing of it (not its status, not its
    question codes) unless it is open to join.
    """
    if any(s.agency == agency for s in survey.sponsors):
        raise SurveyRuleBroken("Your agency already sponsors this survey.",
                               {"agency": [agency]}, status=409)
    if any(r.kind == "invitation" and r.agency == agency and r.status == PENDING
           for r in survey.join_requests):
        raise SurveyRuleBroken("Your agency is invited to co-sponsor this survey already: "
                               "accept or decline the invitation.",
                               {"agency": [agency]}, status=409)
    if not open_to_join(survey):
        if not knows_of(survey, agency):
            raise NotOpenToJoin(survey.id)
        _still_a_draft(survey)
        raise SurveyRuleBroken("The lead agency takes no requests to join this survey.",
                               {"survey": ["Not open to join."]}, status=409)
    pending = session.scalar(select(JoinRequest.id).where(
        JoinRequest.survey_id == survey.id, JoinRequest.agency == agency,
        JoinRequest.status == PENDING))
    if pending:
        raise SurveyRuleBroken("Your agency has a request waiting for this survey already.",
                               {"agency": [f"Request {pending} is pending."]}, status=409)
    questions = resolve_bank_questions(session, data["questions"])
    taken = {q.code for q in survey.questions}
    errors = {index: {"code": [f"The survey already has a question {q['code']}."]}
              for index, q in enumerate(questions) if q["code"] in taken}
    errors.update(check_question_module(questions, survey.channels,
                                        earlier=[_as_definition(q) for q in survey.questions]))
    if errors:
        raise SurveyRuleBroken("Your question module does not fit this survey.",
                               {"questions": errors})
    request = JoinRequest(survey_id=survey.id, agency=agency, message=data["message"],
                          questions=[_plain(q) for q in questions])
    session.add(request)
    session.flush()
    return request


def _plain(question: dict) -> dict:
    """A checked question definition as JSON (marshmallow leaves dates and the like alone)."""
    return {key: value for key, value in question.items() if value is not None}


def _still_a_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyRuleBroken("Only a draft can take a co-sponsor.",
                               {"survey": [f"This survey is {survey.status}."]}, status=409)


def _pending(request: JoinRequest, decision: JoinRequestStatus) -> None:
    if not may_move(request.status, decision, JoinRequestStatus):
        what = "invitation" if request.kind == "invitation" else "request"
        raise SurveyRuleBroken(f"This {what} was {request.status} already.",
                               {"status": [request.status]}, status=409)


def decide(session: Session, survey: Survey, request: JoinRequest, *, approve: bool,
           sponsors: list[dict]) -> None:
    """The lead's decision on a request; approving adds the sponsor, its share and its module.

    Approving sets every cost share again: the sponsors', the new one's, and the proposed
    share of every agency still invited.
    """
    decision = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.REFUSED
    _pending(request, decision)
    _still_a_draft(survey)
    if not approve:
        request.status, request.decided_at = decision, utcnow()
        return
    invited = {r.agency: r for r in survey.join_requests
               if r.kind == "invitation" and r.status == PENDING}
    named = {s["agency"] for s in sponsors}
    expected = {s.agency for s in survey.sponsors} | set(invited) | {request.agency}
    if named != expected:
        raise SurveyRuleBroken("Give a cost share for every sponsor, the new one included.",
                               {"sponsors": [
                                   f"Expected shares for {', '.join(sorted(expected))}."]})
    shares = {s["agency"]: s["cost_share"] for s in sponsors}
    for sponsor in survey.sponsors:
        sponsor.cost_share = shares[sponsor.agency]
    for agency, invitation in invited.items():
        invitation.cost_share = shares[agency]
    survey.sponsors.append(SurveySponsor(agency=request.agency,
                                         cost_share=shares[request.agency]))
    survey.questions.extend(build_questions(request.questions, survey.channels,
                                            start=len(survey.questions),
                                            module_agency=request.agency))
    request.status, request.decided_at = decision, utcnow()


def answer_invitation(survey: Survey, invitation: JoinRequest, *, accept: bool) -> None:
    """The invited agency's answer: accepting makes it a sponsor at the proposed share.

    Declining gives the proposed share to the lead agency, so the shares still add up to 100.
    """
    answer = JoinRequestStatus.ACCEPTED if accept else JoinRequestStatus.DECLINED
    _pending(invitation, answer)
    _still_a_draft(survey)
    share = Decimal(str(invitation.cost_share))
    if accept:
        survey.sponsors.append(SurveySponsor(agency=invitation.agency, cost_share=share))
        invitation.status = answer
    else:
        lead = next(s for s in survey.sponsors if s.agency == survey.lead_agency)
        lead.cost_share = Decimal(str(lead.cost_share)) + share
        invitation.status = answer
    invitation.decided_at = utcnow()


def ask_to_join(session: Session, *, agency: str, survey_id: int, data: dict) -> JoinRequest:
    """An agency asks to co-sponsor a draft open to joining (overlaps offer them)."""
    # It still cannot read the survey; any survey it may not ask to join answers as if it
    # did not exist.
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound("No such survey.")
    request = request_to_join(session, survey, agency, data)
    session.commit()
    return request


def decide_on_request(session: Session, *, agency: str, survey_id: int, request_id: int,
                      approve: bool, sponsors: list[dict]) -> Survey:
    """The lead agency approves (setting every cost share) or refuses a request to join."""
    survey = sponsored_survey(session, agency=agency, survey_id=survey_id)
    if survey.lead_agency != agency:
        raise RuleBroken("Only the lead agency decides who joins.", status=403)
    request = session.get(JoinRequest, request_id)
    if request is None or request.survey_id != survey.id or request.kind != "request":
        raise NotFound("No such request.")
    decide(session, survey, request, approve=approve, sponsors=sponsors)
    session.commit()
    return survey


def answer_agency_invitation(session: Session, *, agency: str, invitation_id: int,
                             accept: bool) -> JoinRequest:
    """The invited agency accepts (becoming a sponsor) or declines an invitation."""
    invitation = invitation_to(session, agency=agency, invitation_id=invitation_id)
    answer_invitation(invitation.survey, invitation, accept=accept)
    session.commit()
    return invitation
