"""A survey's life: drafted, launched to a sample of the panel, invitations sent, closed."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.surveys.models import (
    Agency,
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
    SurveySponsor,
)
from services.surveys.results import tally
from shared.bus import Bus, utcnow


class SurveyRuleBroken(ValueError):
    """A request the survey's state or rules do not allow; `errors` names the fields."""

    def __init__(self, message: str, errors: dict | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


def new_token() -> str:
    # 32 random bytes: 256 bits, far beyond guessing.
    return secrets.token_urlsafe(32)


def create_survey(session: Session, *, data: dict, lead_agency: str) -> Survey:
    sponsors = [s["agency"] for s in data["sponsors"]]
    if lead_agency not in sponsors:
        raise SurveyRuleBroken("Your agency must be one of the sponsors.",
                               {"sponsors": [f"{lead_agency} is not among the sponsors."]})
    known = set(session.scalars(select(Agency.slug).where(Agency.slug.in_(sponsors))))
    unknown = [a for a in sponsors if a not in known]
    if unknown:
        raise SurveyRuleBroken("Unknown sponsor agency.",
                               {"sponsors": [f"No agency called {a}." for a in unknown]})
    decision = data.get("decision") or {}
    survey = Survey(
        title=data["title"], summary=data["summary"], purpose=data["purpose"],
        scope=data["scope"], decision=decision.get("description"),
        decision_owner=decision.get("owner"), decision_due=decision.get("due"),
        lead_agency=lead_agency, sample_size=data["sample_size"],
        sponsors=[SurveySponsor(agency=s["agency"], cost_share=s["cost_share"])
                  for s in data["sponsors"]],
        questions=[
            Question(
                position=index, code=q["code"], type=q["type"], text=q["text"],
                options=q["options"], required=q["required"],
                scale_min=(q["scale"] or {}).get("min"), scale_max=(q["scale"] or {}).get("max"),
                scale_labels=(q["scale"] or {}).get("labels", []),
            )
            for index, q in enumerate(data["questions"])
        ],
    )
    session.add(survey)
    session.flush()
    return survey


def launch_problems(survey: Survey, today: date) -> dict[str, list[str]]:
    """What stops a survey from launching, by field; empty when it may launch."""
    problems: dict[str, list[str]] = {}
    if survey.status != "draft":
        problems["status"] = [f"Only a draft can launch; this survey is {survey.status}."]
    if not survey.purpose:
        problems["purpose"] = ["Say what the survey is for."]
    if not survey.scope:
        problems["scope"] = ["Say what can and cannot change as a result."]
    if not (survey.decision and survey.decision_owner and survey.decision_due):
        problems["decision"] = ["Name the decision it informs, its owner and when it is due."]
    elif survey.decision_due < today:
        problems["decision"] = ["The decision's due date has passed."]
    return problems


def launch_survey(session: Session, bus: Bus, survey: Survey, today: date) -> None:
    problems = launch_problems(survey, today)
    if problems:
        raise SurveyRuleBroken("This survey cannot launch yet.", problems)
    survey.status, survey.launched_at = "fieldwork", utcnow()
    bus.send(session, "panel.draw_sample", {
        "survey_id": survey.id, "size": survey.sample_size,
        "sponsors": [s.agency for s in survey.sponsors], "seed": None,
    })


def invitation_context(survey: Survey, agency_names: dict[str, str]) -> dict[str, str]:
    return {
        "survey_title": survey.title,
        "purpose": survey.purpose or "",
        "decision": survey.decision or "",
        "decision_due": survey.decision_due.strftime("%-d %B %Y") if survey.decision_due else "",
        "lead_agency_name": agency_names.get(survey.lead_agency, survey.lead_agency),
    }


def invite_sample(session: Session, bus: Bus, *, survey_id: int, members: list[dict],
                  surveys_url: str, batch_size: int) -> int:
    """Make an invitation for each newly sampled member and send them through panel in batches."""
    survey = session.get(Survey, survey_id)
    if survey is None or survey.status != "fieldwork":
        return 0
    refs = [str(m["member_ref"]) for m in members]
    existing = set(session.scalars(select(Invitation.member_ref).where(
        Invitation.survey_id == survey_id, Invitation.member_ref.in_(refs))))
    invitations = [
        Invitation(survey_id=survey_id, member_ref=str(m["member_ref"]), token=new_token(),
                   channel=m["channel"], profile=dict(m["profile"]))
        for m in members if str(m["member_ref"]) not in existing
    ]
    session.add_all(invitations)
    session.flush()
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    context = invitation_context(survey, names)
    for start in range(0, len(invitations), batch_size):
        bus.send(session, "panel.deliver", {
            "template": "invitation", "context": context,
            "recipients": [
                {"member_ref": inv.member_ref, "delivery_ref": f"invitation:{inv.id}",
                 "link": f"{surveys_url}/r/{inv.token}"}
                for inv in invitations[start:start + batch_size]
            ],
        })
    return len(invitations)


def survey_results(session: Session, survey: Survey) -> dict:
    questions = [
        {"code": q.code, "text": q.text, "type": q.type, "options": q.options,
         "scale_min": q.scale_min, "scale_max": q.scale_max}
        for q in survey.questions
    ]
    answers = session.execute(
        select(Question.code, Answer.value)
        .join(Answer, Answer.question_id == Question.id)
        .where(Question.survey_id == survey.id)
    ).all()
    invited = session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.survey_id == survey.id))
    responded = session.scalar(select(func.count()).select_from(Response).where(
        Response.survey_id == survey.id))
    return {"survey_id": survey.id, "status": survey.status, "invited": invited,
            "responded": responded, "questions": tally(questions, answers)}


def close_survey(session: Session, bus: Bus, survey: Survey) -> None:
    if survey.status != "fieldwork":
        raise SurveyRuleBroken(f"Only a survey in fieldwork can close; this one is {survey.status}.",
                               {"status": [survey.status]}, status=409)
    survey.status, survey.closed_at = "closed", utcnow()
    results = survey_results(session, survey)
    respondents = session.scalars(
        select(Invitation.member_ref).join(Response, Response.invitation_id == Invitation.id)
        .where(Response.survey_id == survey.id)
    ).all()
    bus.send(session, "feedback.survey_closed", {
        "survey_id": survey.id, "title": survey.title, "purpose": survey.purpose,
        "scope": survey.scope,
        "decision": {"description": survey.decision, "owner": survey.decision_owner,
                     "due": survey.decision_due},
        "sponsors": [s.agency for s in survey.sponsors], "closed_at": survey.closed_at,
        "invited": results["invited"], "questions": results["questions"],
        "respondent_refs": list(respondents),
    })
