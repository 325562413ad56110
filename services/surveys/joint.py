"""Joint surveys: an agency asks to co-sponsor a draft with its own questions; the lead decides."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.lifecycle import SurveyRuleBroken, build_questions, resolve_bank_questions
from services.surveys.models import JoinRequest, Survey, SurveySponsor
from services.surveys.schemas import check_question_module
from shared.bus import utcnow


def _as_definition(question) -> dict:
    return {"code": question.code, "type": question.type, "options": question.options}


def request_to_join(session: Session, survey: Survey, agency: str, data: dict) -> JoinRequest:
    if survey.status != "draft":
        raise SurveyRuleBroken("Only a draft can take a co-sponsor.",
                               {"survey": [f"This survey is {survey.status}."]}, status=409)
    if any(s.agency == agency for s in survey.sponsors):
        raise SurveyRuleBroken("Your agency already sponsors this survey.",
                               {"agency": [agency]}, status=409)
    pending = session.scalar(select(JoinRequest.id).where(
        JoinRequest.survey_id == survey.id, JoinRequest.agency == agency,
        JoinRequest.status == "pending"))
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


def decide(session: Session, survey: Survey, request: JoinRequest, *, approve: bool,
           sponsors: list[dict]) -> None:
    """The lead's decision; approving adds the sponsor, its cost share and its module."""
    if request.status != "pending":
        raise SurveyRuleBroken(f"This request was {request.status} already.",
                               {"status": [request.status]}, status=409)
    if survey.status != "draft":
        raise SurveyRuleBroken("Only a draft can take a co-sponsor.",
                               {"survey": [f"This survey is {survey.status}."]}, status=409)
    request.decided_at = utcnow()
    if not approve:
        request.status = "refused"
        return
    named = {s["agency"] for s in sponsors}
    expected = {s.agency for s in survey.sponsors} | {request.agency}
    if named != expected:
        raise SurveyRuleBroken("Give a cost share for every sponsor, the new one included.",
                               {"sponsors": [
                                   f"Expected shares for {', '.join(sorted(expected))}."]})
    shares = {s["agency"]: s["cost_share"] for s in sponsors}
    for sponsor in survey.sponsors:
        sponsor.cost_share = shares[sponsor.agency]
    survey.sponsors.append(SurveySponsor(agency=request.agency,
                                         cost_share=shares[request.agency]))
    survey.questions.extend(build_questions(request.questions, survey.channels,
                                            start=len(survey.questions),
                                            module_agency=request.agency))
    request.status = "approved"
