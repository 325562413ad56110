"""A survey's life: drafted, launched to a sample of the panel, invitations sent, closed."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.surveys.analysis import add_weighted_results
from services.surveys.audit import record_staff_action
from services.surveys.models import (
    Agency,
    Answer,
    BankQuestion,
    Invitation,
    JoinRequest,
    Question,
    Response,
    Survey,
    SurveySponsor,
)
from services.surveys.overlap import find_overlaps
from services.surveys.queries import led_survey, sponsored_survey
from services.surveys.questions import sms_problem, survey_text
from services.surveys.quotas import cell_of, full_cells
from services.surveys.responding import open_dialogues
from services.surveys.results import tally
from services.surveys.themes import feedback_themes, queue_theme_runs
from shared.audit import Actor
from shared.bus import Bus, utcnow
from shared.db import among, insert_rows_with_ids, update_rows
from shared.errors import RuleBroken
from shared.statuses import JoinRequestStatus, SurveyStatus, may_move


class SurveyRuleBroken(RuleBroken):
    """A request the survey's state or rules do not allow; `errors` names the fields."""


def new_token() -> str:
    # 32 random bytes: 256 bits, far beyond guessing.
    return secrets.token_urlsafe(32)


def resolve_bank_questions(session: Session, questions: list[dict]) -> list[dict]:
    """Each question as a full definition: a bank question's, under its stable code."""
    codes = [q["bank_code"] for q in questions if q.get("bank_code")]
    bank = {b.code: b for b in session.scalars(select(BankQuestion).where(
        BankQuestion.code.in_(codes)))} if codes else {}
    resolved, errors = [], {}
    for index, question in enumerate(questions):
        code = question.get("bank_code")
        if not code:
            resolved.append(question)
            continue
        if code not in bank:
            errors[index] = {"bank_code": [f"No question called {code} in the question bank."]}
            continue
        definition = dict(bank[code].definition)
        resolved.append({**definition, "code": code, "bank_code": code,
                         "required": question.get("required", definition.get("required", True)),
                         "show_if": question.get("show_if")})
    if errors:
        raise SurveyRuleBroken("Unknown question bank code.", {"questions": errors})
    return resolved


def build_questions(questions: list[dict], channels: list[str], *, start: int = 0,
                    module_agency: str | None = None) -> list[Question]:
    """Question rows from checked definitions; SMS dialogue refuses what SMS cannot ask."""
    errors = {}
    for index, question in enumerate(questions):
        problem = sms_problem(question) if "sms_dialogue" in channels else None
        if problem:
            errors[index] = {"type": [f"Question {question['code']}: {problem}"]}
    if errors:
        raise SurveyRuleBroken("A question cannot be asked by SMS dialogue.",
                               {"questions": errors})
    return [
        Question(
            position=start + index, code=q["code"], type=q["type"], text=q["text"],
            options=q.get("options") or [], required=q.get("required", True),
            scale_min=(q.get("scale") or {}).get("min"),
            scale_max=(q.get("scale") or {}).get("max"),
            scale_labels=(q.get("scale") or {}).get("labels", []),
            min_value=q.get("min"), max_value=q.get("max"),
            show_if=q.get("show_if"), translations=q.get("translations") or {},
            module_agency=module_agency, bank_code=q.get("bank_code"),
        )
        for index, q in enumerate(questions)
    ]


def check_sponsors(session: Session, sponsors: list[dict], lead_agency: str) -> None:
    """The lead agency is a sponsor, and every sponsor is a partner agency."""
    agencies = [s["agency"] for s in sponsors]
    if lead_agency not in agencies:
        raise SurveyRuleBroken("Your agency must be one of the sponsors.",
                               {"sponsors": [f"{lead_agency} is not among the sponsors."]})
    known = set(session.scalars(select(Agency.slug).where(Agency.slug.in_(agencies))))
    unknown = [a for a in agencies if a not in known]
    if unknown:
        raise SurveyRuleBroken("Unknown sponsor agency.",
                               {"sponsors": [f"No agency called {a}." for a in unknown]})


def create_survey(session: Session, *, data: dict, lead_agency: str) -> Survey:
    """A draft led by `lead_agency`; every other agency it names is only invited to sponsor.

    An invited agency becomes a sponsor, at the cost share proposed here, when one of its
    officers or admins accepts (`joint.answer_invitation`); until then it is no sponsor.
    """
    check_sponsors(session, data["sponsors"], lead_agency)
    decision = data.get("decision") or {}
    fieldwork = data.get("fieldwork") or {}
    channels = data.get("channels") or ["web", "sms_link"]
    questions = resolve_bank_questions(session, data["questions"])
    survey = Survey(
        title=data["title"], summary=data["summary"], purpose=data["purpose"],
        scope=data["scope"], decision=decision.get("description"),
        decision_owner=decision.get("owner"), decision_due=decision.get("due"),
        lead_agency=lead_agency, sample_size=data["sample_size"],
        areas=list(data.get("areas") or []), topics=list(data.get("topics") or []),
        fieldwork_start=fieldwork.get("start"), fieldwork_end=fieldwork.get("end"),
        target_completes=data.get("target_completes"),
        quotas=[{"cell": dict(q["cell"]), "target": q["target"]}
                for q in data.get("quotas") or []],
        channels=list(channels), reminder_days=sorted(data.get("reminder_days") or []),
        languages=list(data.get("languages") or ["en"]),
        translations=dict(data.get("translations") or {}),
        open_to_join=data.get("open_to_join", True),
        sponsors=[SurveySponsor(agency=s["agency"], cost_share=s["cost_share"])
                  for s in data["sponsors"] if s["agency"] == lead_agency],
        join_requests=[JoinRequest(agency=s["agency"], kind="invitation",
                                   cost_share=s["cost_share"], questions=[])
                       for s in data["sponsors"] if s["agency"] != lead_agency],
        questions=build_questions(questions, channels),
    )
    session.add(survey)
    session.flush()
    return survey


def draft(session: Session, *, data: dict, agency: str) -> Survey:
    """Draft a survey led by the agency; it comes back with the overlaps it has."""
    survey = create_survey(session, data=data, lead_agency=agency)
    session.commit()
    survey.overlaps = find_overlaps(session, survey, agency)
    return survey


def unanswered_invitations(survey: Survey) -> list[JoinRequest]:
    return [r for r in survey.join_requests
            if r.kind == "invitation" and r.status == JoinRequestStatus.PENDING]


def launch_problems(survey: Survey, today: date,
                    agency_names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """What stops a survey from launching, by field; empty when it may launch."""
    names = agency_names or {}
    problems: dict[str, list[str]] = {}
    if not may_move(survey.status, SurveyStatus.FIELDWORK, SurveyStatus):
        problems["status"] = [f"Only a draft can launch; this survey is {survey.status}."]
    if not survey.questions:
        problems["questions"] = ["Add at least one question."]
    if not survey.purpose:
        problems["purpose"] = ["Say what the survey is for."]
    if not survey.scope:
        problems["scope"] = ["Say what can and cannot change as a result."]
    if not (survey.decision and survey.decision_owner and survey.decision_due):
        problems["decision"] = ["Name the decision it informs, its owner and when it is due."]
    elif survey.decision_due < today:
        problems["decision"] = ["The decision's due date has passed."]
    if survey.fieldwork_end is not None and survey.fieldwork_end < today:
        problems["fieldwork"] = ["The fieldwork window has ended."]
    missing = untranslated(survey)
    if missing:
        problems["languages"] = missing
    waiting = unanswered_invitations(survey)
    if waiting:
        problems["sponsors"] = [
            f"{names.get(r.agency, r.agency)} has not yet accepted or declined the invitation "
            "to co-sponsor this survey." for r in waiting]
    return problems


LANGUAGE_NAMES = {"cy": "Welsh"}


def untranslated(survey: Survey) -> list[str]:
    """What of the survey's own words is missing in each language it is offered in but
    English: its title, and its summary when it has one."""
    missing = []
    for language in survey.languages:
        if language == "en":
            continue
        words = (survey.translations or {}).get(language) or {}
        name = LANGUAGE_NAMES.get(language, language)
        if not words.get("title"):
            missing.append(f"Give the survey's title in {name}.")
        if survey.summary and not words.get("summary"):
            missing.append(f"Give the survey's summary in {name}.")
    return missing


def launch_survey(session: Session, bus: Bus, survey: Survey, today: date) -> None:
    problems = launch_problems(survey, today, agency_names(session))
    if problems:
        raise SurveyRuleBroken("This survey cannot launch yet.", problems)
    survey.status, survey.launched_at = SurveyStatus.FIELDWORK, utcnow()
    if survey.fieldwork_start is None:
        survey.fieldwork_start = today
    bus.send(session, "panel.draw_sample", {**draw_request(survey), "draw_id": "launch",
                                            "seed": None})


def draw_request(survey: Survey) -> dict:
    """What panel is asked to draw from at launch (and to count before it): the sponsors,
    whose opt-outs apply; the quota cells; the survey's areas; the channels it reaches."""
    return {
        "survey_id": survey.id, "size": survey.sample_size,
        "sponsors": [s.agency for s in survey.sponsors],
        "quotas": [{"cell": q["cell"], "target": q["target"]} for q in survey.quotas],
        "filters": {"area": list(survey.areas)} if survey.areas else {},
        "channels": panel_channels(survey.channels),
    }


def launch(session: Session, bus: Bus, *, actor: Actor, survey_id: int, today: date) -> Survey:
    """The lead agency launches its draft: panel is asked to draw the sample. In the audit log."""
    survey = led_survey(session, agency=actor.agency, survey_id=survey_id, doing="launches")
    launch_survey(session, bus, survey, today)
    record_staff_action(session, actor, "launch", survey_ids=[survey.id],
                        detail={"sample_size": survey.sample_size})
    session.commit()
    survey.overlaps = find_overlaps(session, survey, actor.agency)
    return survey


def close(session: Session, bus: Bus, *, actor: Actor, survey_id: int) -> Survey:
    """The lead agency closes fieldwork; feedback is handed the results. In the audit log."""
    survey = led_survey(session, agency=actor.agency, survey_id=survey_id, doing="closes")
    close_survey(session, bus, survey)
    record_staff_action(session, actor, "close", survey_ids=[survey.id])
    session.commit()
    return survey


def panel_channels(channels: list[str]) -> list[str]:
    """The panel channels a survey reaches members by: email for web, SMS for the SMS modes."""
    wanted = []
    if "web" in channels:
        wanted.append("email")
    if "sms_link" in channels or "sms_dialogue" in channels:
        wanted.append("sms")
    return wanted


def agency_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Agency.slug, Agency.name)).all())


def invitation_context(survey: Survey, agency_names: dict[str, str],
                       language: str = "en") -> dict[str, str]:
    """What panel's messages about the survey say of it; its title in the member's language
    (panel renders the rest of the message in that language)."""
    return {
        "survey_title": survey_text(survey, "title", language),
        "purpose": survey.purpose or "",
        "decision": survey.decision or "",
        "decision_due": survey.decision_due.strftime("%-d %B %Y") if survey.decision_due else "",
        "lead_agency_name": agency_names.get(survey.lead_agency, survey.lead_agency),
    }


def invite_sample(session: Session, bus: Bus, *, survey_id: int, members: list[dict],
                  surveys_url: str, batch_size: int, draw_id: str | None = None) -> int:
    """Make an invitation for each newly sampled member and send them through panel in batches.

    Members in a quota cell already full of completed responses, members invited before, and
    every member once the survey has left fieldwork are not invited, and panel is told so in
    the same transaction, to give back the contact-cap slots the draw took. Members
    reached by SMS on a survey with an SMS dialogue get its first question straight after.
    """
    refs = [str(m["member_ref"]) for m in members]
    survey = session.get(Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.FIELDWORK:
        give_back_contacts(session, bus, survey_id, draw_id, refs)
        return 0
    invited_before: dict[str, str | None] = {}
    for start in range(0, len(refs), 1000):
        invited_before.update(session.execute(select(Invitation.member_ref, Invitation.draw_id)
                                              .where(Invitation.survey_id == survey_id,
                                                     among(session, Invitation.member_ref,
                                                           refs[start:start + 1000]))).all())
    full = full_cells(session, survey)
    rows, unused = [], []
    for m in members:
        ref = str(m["member_ref"])
        if ref in invited_before or cell_of(survey.quotas, m["profile"]) in full:
            # A slot stays taken only when this draw's invitation already uses it.
            if not (ref in invited_before and invited_before[ref] == draw_id):
                unused.append(ref)
            continue
        rows.append({"survey_id": survey_id, "member_ref": ref, "token": new_token(),
                     "channel": m["channel"], "profile": dict(m["profile"]),
                     "language": m.get("language") or "en", "draw_id": draw_id})
    give_back_contacts(session, bus, survey_id, draw_id, unused)
    if not rows:
        return 0
    # In bulk (COPY on PostgreSQL), not a unit-of-work flush of one object per member.
    invitations = _inserted(session, rows)
    names = agency_names(session)
    languages = [row["language"] for row in rows]
    for language, batch in by_language(survey, list(zip(languages, invitations, strict=True))):
        context = invitation_context(survey, names, language)
        for start in range(0, len(batch), batch_size):
            bus.send(session, "panel.deliver", {
                "template": "invitation", "context": context,
                "recipients": [
                    {"member_ref": member_ref, "delivery_ref": f"invitation:{invitation_id}",
                     "link": f"{surveys_url}/r/{token}"}
                    for invitation_id, member_ref, token, _ in batch[start:start + batch_size]
                ],
            })
    if "sms_dialogue" in survey.channels:
        by_sms = [invitation_id for invitation_id, _, _, channel in invitations
                  if channel == "sms"]
        open_dialogues(session, bus, survey, list(session.scalars(
            select(Invitation).where(among(session, Invitation.id, by_sms))
            .order_by(Invitation.id))) if by_sms else [], batch_size)
    return len(invitations)


def by_language(survey: Survey, items: list[tuple[str, object]]) -> list[tuple[str, list]]:
    """Items by the language their messages are written in: a member's own when the survey
    is offered in it, else English; English first, in the items' order within each."""
    grouped: dict[str, list] = {}
    for language, item in items:
        grouped.setdefault(language if language in survey.languages else "en", []).append(item)
    return sorted(grouped.items(), key=lambda pair: pair[0] != "en")


def give_back_contacts(session: Session, bus: Bus, survey_id: int, draw_id: str | None,
                       member_refs: list[str]) -> None:
    """Tell panel these sampled members were not invited, so their contact slots are freed."""
    if member_refs:
        bus.send(session, "panel.contacts_unused", {
            "survey_id": survey_id, "draw_id": draw_id, "member_refs": member_refs})


def _inserted(session: Session, rows: list[dict]) -> list[tuple[int, str, str, str]]:
    """Insert the invitations: (id, member_ref, token, channel) of each, in the rows' order."""
    ids = insert_rows_with_ids(session, Invitation.__table__, rows)
    return [(new_id, row["member_ref"], row["token"], row["channel"])
            for new_id, row in zip(ids, rows, strict=True)]


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


def sponsored_results(session: Session, *, agency: str, survey_id: int) -> dict:
    """Counts per question of a survey the agency sponsors."""
    return survey_results(session, sponsored_survey(session, agency=agency, survey_id=survey_id))


def close_survey(session: Session, bus: Bus, survey: Survey) -> None:
    if not may_move(survey.status, SurveyStatus.CLOSED, SurveyStatus):
        raise SurveyRuleBroken(
            f"Only a survey in fieldwork can close; this one is {survey.status}.",
            {"status": [survey.status]}, status=409)
    survey.status, survey.closed_at = SurveyStatus.CLOSED, utcnow()
    closed = closed_message(session, survey)
    bus.send(session, "feedback.survey_closed", closed)
    # Panel compares the respondents with the population (its representativeness pages).
    bus.send(session, "panel.survey_respondents", {key: closed[key] for key in (
        "survey_id", "title", "sponsors", "sponsor_names", "closed_at", "respondent_refs")})
    queue_theme_runs(session, bus, survey)


def closed_message(session: Session, survey: Survey) -> dict:
    """The payload of feedback.survey_closed; add further figures to it here."""
    results = survey_results(session, survey)
    respondents = session.scalars(
        select(Invitation.member_ref).join(Response, Response.invitation_id == Invitation.id)
        .where(Response.survey_id == survey.id)
    ).all()
    channels = dict(session.execute(
        select(Invitation.channel, func.count())
        .join(Response, Response.invitation_id == Invitation.id)
        .where(Response.survey_id == survey.id).group_by(Invitation.channel)).all())
    names = agency_names(session)
    message = {
        "survey_id": survey.id, "title": survey.title, "purpose": survey.purpose,
        "title_translations": {language: words["title"] for language, words
                               in (survey.translations or {}).items() if words.get("title")},
        "scope": survey.scope,
        "decision": {"description": survey.decision, "owner": survey.decision_owner,
                     "due": survey.decision_due},
        "sponsors": [s.agency for s in survey.sponsors], "closed_at": survey.closed_at,
        "sponsor_names": {s.agency: names[s.agency] for s in survey.sponsors
                          if s.agency in names},
        "invited": results["invited"], "questions": results["questions"],
        "respondent_refs": list(respondents), "respondent_channels": channels,
        "areas": list(survey.areas or []), "topics": list(survey.topics or []),
        "themes": feedback_themes(session, survey),
    }
    return add_weighted_results(session, survey, message)


def record_deliveries(session: Session, payload: dict) -> None:
    """What panel's delivery report says of each invitation's message, in the caller's
    transaction (the inbox's)."""
    statuses = {}
    for item in payload["deliveries"]:
        kind, _, invitation_id = item["delivery_ref"].partition(":")
        if kind == "invitation" and invitation_id.isdigit():
            statuses[int(invitation_id)] = item["status"]
    # One statement, not an object loaded and flushed per invitation: a launch to 100,000
    # members reports 100,000 statuses.
    update_rows(session, Invitation.__table__,
                [{"id": i, "delivery_status": status} for i, status in statuses.items()])
