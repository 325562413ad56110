"""Building a draft in steps, as the console's builder does: start one (blank or a copy), change
its details, and add, edit, move and remove its questions one at a time.

Every step checks the whole draft it would leave with the create API's own schema
(`SurveyDraftSchema`, the create rules except that a draft may have no questions yet), so the
rules exist once. Only the lead agency's officers and admins edit a draft, and only while it
is a draft: a co-sponsor is refused (403), any other agency is told there is no such survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys import queries
from services.surveys.lifecycle import (
    SurveyRuleBroken,
    build_questions,
    check_sponsors,
    create_survey,
    resolve_bank_questions,
)
from services.surveys.models import Agency, BankQuestion, JoinRequest, Question, Survey
from services.surveys.population import area_names
from services.surveys.schemas import UNIQUE_CODES, SurveyDraftSchema
from shared.errors import NotFound
from shared.statuses import JoinRequestStatus, SurveyStatus

# A blank draft's sample until the officer sets it (on the builder's Fieldwork page).
DEFAULT_SAMPLE_SIZE = 100
TITLE_LIMIT = 200
QUESTION_COLUMNS = ("code", "type", "text", "options", "required", "scale_min", "scale_max",
                    "scale_labels", "min_value", "max_value", "show_if", "translations",
                    "bank_code")


def parsed(schema: Schema, raw: dict) -> dict:
    """`raw` loaded by the API's schema; its errors, by field, as a broken rule."""
    try:
        return schema.load(raw)
    except ValidationError as error:
        raise SurveyRuleBroken("Check what you entered.", error.messages) from error


# -- reading ------------------------------------------------------------------------------


@dataclass
class Draft:
    """A draft being built, with the names its pages show."""

    survey: Survey
    agency_names: dict[str, str]
    area_names: dict[str, str]
    bank: list[BankQuestion]


def editable_draft(session: Session, *, agency: str, survey_id: int) -> Survey:
    """The draft when the agency leads it: 403 for a co-sponsor, 404 for the rest, 409 once
    it has left draft."""
    survey = queries.led_survey(session, agency=agency, survey_id=survey_id, doing="edits")
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyRuleBroken(f"Only a draft can be changed; this survey is {survey.status}.",
                               {"status": [survey.status]}, status=409)
    return survey


def editing(session: Session, *, agency: str, survey_id: int) -> Draft:
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    return Draft(survey, names, area_names(session), queries.bank_questions(session))


def question_input(question: Question) -> dict:
    """A stored question as the create API takes it (a bank question by its definition)."""
    return {
        "code": question.code, "type": question.type, "text": question.text,
        "options": list(question.options or []),
        "scale": {"min": question.scale_min, "max": question.scale_max,
                  "labels": list(question.scale_labels or [])}
        if question.type == "rating" else None,
        "min": question.min_value, "max": question.max_value,
        "required": question.required, "show_if": question.show_if,
        "translations": dict(question.translations or {}), "bank_code": None,
    }


def pending_invitations(survey: Survey) -> list[JoinRequest]:
    return [r for r in survey.join_requests
            if r.kind == "invitation" and r.status == JoinRequestStatus.PENDING]


def draft_state(survey: Survey) -> dict:
    """The draft as the create API takes it: sponsors are its sponsors and the agencies
    invited to be, at their proposed shares."""
    return {
        "title": survey.title, "summary": survey.summary or "", "purpose": survey.purpose,
        "scope": survey.scope,
        "decision": {"description": survey.decision, "owner": survey.decision_owner,
                     "due": survey.decision_due} if survey.decision else None,
        "sponsors": [{"agency": s.agency, "cost_share": Decimal(str(s.cost_share))}
                     for s in survey.sponsors] +
                    [{"agency": r.agency, "cost_share": Decimal(str(r.cost_share))}
                     for r in pending_invitations(survey)],
        "sample_size": survey.sample_size,
        "questions": [question_input(q) for q in survey.questions],
        "areas": list(survey.areas or []), "topics": list(survey.topics or []),
        "fieldwork": {"start": survey.fieldwork_start, "end": survey.fieldwork_end}
        if survey.fieldwork_end else None,
        "target_completes": survey.target_completes,
        "quotas": [dict(q) for q in survey.quotas or []],
        "channels": list(survey.channels), "reminder_days": list(survey.reminder_days or []),
        "languages": list(survey.languages), "open_to_join": survey.open_to_join,
        "translations": {language: dict(words)
                         for language, words in (survey.translations or {}).items()},
    }


def as_sent(state: dict) -> dict:
    """The draft as JSON, as an API client would send it."""
    return SurveyDraftSchema().dump(state)


def checked(state: dict) -> dict:
    """The whole draft through the create rules; what breaks them, by field."""
    return parsed(SurveyDraftSchema(), as_sent(state))


# -- starting -----------------------------------------------------------------------------


def new_draft(session: Session, *, agency: str, data: dict) -> Survey:
    """A draft led by the agency: blank with a title, or a copy of a survey it sponsors.

    A copy has the same details and questions, the agency as its only sponsor, and its title
    is "Copy of …" unless another is given.
    """
    if data.get("copy_of") is None:
        state = {"title": data["title"], "sample_size": DEFAULT_SAMPLE_SIZE, "questions": [],
                 "sponsors": [{"agency": agency, "cost_share": Decimal("100")}]}
        bank_codes: list = []
    else:
        source = queries.sponsored_survey(session, agency=agency, survey_id=data["copy_of"])
        state = draft_state(source)
        state["title"] = data.get("title") or f"Copy of {source.title}"[:TITLE_LIMIT]
        state["sponsors"] = [{"agency": agency, "cost_share": Decimal("100")}]
        bank_codes = [q.bank_code for q in source.questions]
    survey = create_survey(session, data=checked(state), lead_agency=agency)
    for question, bank_code in zip(survey.questions, bank_codes, strict=True):
        question.bank_code = bank_code
    session.commit()
    return survey


# -- details ------------------------------------------------------------------------------


def update_details(session: Session, *, agency: str, survey_id: int, changes: dict) -> Survey:
    """Change any of a draft's details (all but its questions), checked as the whole draft."""
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    data = checked({**draft_state(survey), **changes})
    check_sponsors(session, data["sponsors"], agency)
    _keep_accepted_sponsors(session, survey, data["sponsors"])
    _apply_details(survey, data)
    _apply_sponsors(survey, data["sponsors"])
    session.commit()
    return survey


def _apply_details(survey: Survey, data: dict) -> None:
    decision, fieldwork = data["decision"] or {}, data["fieldwork"] or {}
    survey.title, survey.summary = data["title"], data["summary"]
    survey.purpose, survey.scope = data["purpose"], data["scope"]
    survey.decision, survey.decision_owner = decision.get("description"), decision.get("owner")
    survey.decision_due = decision.get("due")
    survey.sample_size, survey.target_completes = data["sample_size"], data["target_completes"]
    survey.areas, survey.topics = list(data["areas"]), list(data["topics"])
    survey.fieldwork_start, survey.fieldwork_end = fieldwork.get("start"), fieldwork.get("end")
    survey.quotas = [{"cell": dict(q["cell"]), "target": q["target"]} for q in data["quotas"]]
    survey.channels, survey.languages = list(data["channels"]), list(data["languages"])
    survey.reminder_days = sorted(data["reminder_days"])
    survey.open_to_join = data["open_to_join"]
    survey.translations = {language: dict(words)
                           for language, words in data["translations"].items()}


def _keep_accepted_sponsors(session: Session, survey: Survey, sponsors: list[dict]) -> None:
    named = {s["agency"] for s in sponsors}
    gone = [s.agency for s in survey.sponsors if s.agency not in named]
    if gone:
        names = dict(session.execute(select(Agency.slug, Agency.name)).all())
        raise SurveyRuleBroken("An agency that accepted stays a sponsor.", {"sponsors": [
            f"{names.get(a, a)} accepted and sponsors this survey: give it a cost share."
            for a in gone]})


def _apply_sponsors(survey: Survey, sponsors: list[dict]) -> None:
    """Sponsors' shares set; agencies newly named are invited, ones no longer named are not."""
    shares = {s["agency"]: s["cost_share"] for s in sponsors}
    for sponsor in survey.sponsors:
        sponsor.cost_share = shares.pop(sponsor.agency)
    for invitation in pending_invitations(survey):
        if invitation.agency in shares:
            invitation.cost_share = shares.pop(invitation.agency)
        else:
            survey.join_requests.remove(invitation)
    survey.join_requests.extend(
        JoinRequest(agency=agency, kind="invitation", cost_share=share, questions=[])
        for agency, share in shares.items())


# -- questions ----------------------------------------------------------------------------


def _index_of(survey: Survey, code: str) -> int:
    for index, question in enumerate(survey.questions):
        if question.code == code:
            return index
    raise NotFound("No such question in this survey.")


def _own_errors(messages: dict, index: int) -> dict:
    """Errors of a whole draft as a question's sender reads them: the question's own at the
    top, as if the question alone had been checked; other questions' under `questions`."""
    errors = {key: value for key, value in messages.items() if key != "questions"}
    others = messages.get("questions")
    if isinstance(others, dict):
        errors.update(others.get(index, {}))
        rest = {i: e for i, e in others.items() if i != index}
        if rest:
            errors["questions"] = rest
    elif others:
        errors["questions"] = others
    return errors


def _checked_question(session: Session, survey: Survey, question: dict, index: int,
                      replacing: bool) -> Question:
    """The question at `index` of the draft (added there, or replacing the one there) as a
    row, once the whole draft with it keeps the rules."""
    try:
        [resolved] = resolve_bank_questions(session, [question])
    except SurveyRuleBroken as broken:
        raise SurveyRuleBroken(str(broken), broken.errors["questions"][0]) from broken
    state = draft_state(survey)
    others = [q["code"] for i, q in enumerate(state["questions"])
              if not (replacing and i == index)]
    if resolved["code"] in others:
        raise SurveyRuleBroken(UNIQUE_CODES, {"code": [UNIQUE_CODES]})
    plain = {**resolved, "bank_code": None}
    state["questions"][index:index + (1 if replacing else 0)] = [plain]
    try:
        checked(state)
    except SurveyRuleBroken as broken:
        raise SurveyRuleBroken(str(broken), _own_errors(broken.errors, index)) from broken
    [row] = build_questions([resolved], survey.channels, start=index)
    return row


def add_question(session: Session, *, agency: str, survey_id: int, question: dict) -> Survey:
    """Add a question at the end of a draft: its own, or one from the bank by its code."""
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    survey.questions.append(
        _checked_question(session, survey, question, len(survey.questions), replacing=False))
    session.commit()
    return survey


def edit_question(session: Session, *, agency: str, survey_id: int, code: str,
                  question: dict) -> Survey:
    """Replace a draft's question in its place (a bank question's own words stay the bank's)."""
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    index = _index_of(survey, code)
    row = _checked_question(session, survey, question, index, replacing=True)
    for column in QUESTION_COLUMNS:
        setattr(survey.questions[index], column, getattr(row, column))
    session.commit()
    return survey


def _reordered(survey: Survey, order: list[Question]) -> None:
    state = draft_state(survey)
    by_code = {q["code"]: q for q in state["questions"]}
    checked({**state, "questions": [by_code[q.code] for q in order]})
    for position, question in enumerate(order):
        question.position = position
    survey.questions.sort(key=lambda q: q.position)


def move_question(session: Session, *, agency: str, survey_id: int, code: str,
                  direction: str) -> Survey:
    """Move a question one place up or down; show-if must still refer to an earlier one."""
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    index = _index_of(survey, code)
    other = index - 1 if direction == "up" else index + 1
    order = list(survey.questions)
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        _reordered(survey, order)
    session.commit()
    return survey


def remove_question(session: Session, *, agency: str, survey_id: int, code: str) -> Survey:
    """Remove a question; no later question may be shown by its answers."""
    survey = editable_draft(session, agency=agency, survey_id=survey_id)
    gone = survey.questions[_index_of(survey, code)]
    _reordered(survey, [q for q in survey.questions if q is not gone])
    survey.questions.remove(gone)
    session.commit()
    return survey


# -- the surveys list ---------------------------------------------------------------------


@dataclass
class SurveyList:
    surveys: list[Survey]
    agency_names: dict[str, str]


def survey_list(session: Session, *, agency: str, statuses: list[str],
                search: str | None) -> SurveyList:
    """The agency's surveys (led or co-sponsored), by status and title, with agency names."""
    surveys = list(session.scalars(queries.sponsored_surveys_matching(
        agency, statuses=statuses, search=search)))
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    return SurveyList(surveys, names)


def copyable_surveys(session: Session, *, agency: str) -> list[Survey]:
    """What a new survey may start as a copy of: any survey the agency sponsors."""
    return list(session.scalars(queries.sponsored_surveys(agency)))
