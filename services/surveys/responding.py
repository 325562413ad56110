"""Answering a survey by web or SMS dialogue: progress kept as it comes, the response saved once."""

from __future__ import annotations

import functools
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.surveys.contact_details import clean_answers, notice
from services.surveys.models import (
    Agency,
    Answer,
    Invitation,
    Question,
    Response,
    SavedAnswer,
    SmsReplyReceived,
    Survey,
)
from services.surveys.questions import (
    choices,
    condition_text,
    decode,
    encode,
    survey_text,
    text_in,
    visible,
)
from services.surveys.sms_dialogue import question_text, read_reply, words
from shared.bus import Bus, utcnow
from shared.statuses import SurveyStatus


class AlreadyAnswered(Exception):
    """This invitation's response was submitted before."""


@dataclass(frozen=True)
class AskedQuestion:
    """A launched survey's question as answers are checked against it (it cannot change)."""

    id: int
    code: str
    type: str
    text: str
    options: list
    required: bool
    scale_min: int | None
    scale_max: int | None
    scale_labels: list
    min_value: int | None
    max_value: int | None
    show_if: dict | None
    translations: dict


@dataclass(frozen=True)
class Link:
    """What answering needs to know of the invitation behind a link, and of its survey."""

    token: str
    invitation_id: int
    survey_id: int
    survey_status: str
    fieldwork_end: date | None
    launched_at: datetime | None
    answered: bool


_invitations, _surveys, _responses = Invitation.__table__, Survey.__table__, Response.__table__
# Answering is the busiest path there is: one Core statement, built and compiled once, reads
# the link, its survey and whether it was answered.
_LINK = (select(_invitations.c.id, _invitations.c.survey_id, _surveys.c.status,
                _surveys.c.fieldwork_end, _surveys.c.launched_at, _responses.c.id.is_not(None))
         .select_from(_invitations
                      .join(_surveys, _surveys.c.id == _invitations.c.survey_id)
                      .outerjoin(_responses, _responses.c.invitation_id == _invitations.c.id))
         .where(_invitations.c.token == bindparam("token")))


def find_link(session: Session, token: str) -> Link | None:
    row = session.connection().execute(_LINK, {"token": token}).first()
    return Link(token, *row) if row is not None else None


_ASKED: dict[tuple, list[AskedQuestion]] = {}
_ASKED_LOCK = threading.Lock()
ASKED_CACHE_SIZE = 256


def asked_questions(session: Session, link: Link) -> list:
    """The link's survey's questions; once launched they are fixed, so each process keeps a
    copy, which saves the busiest path a query per response."""
    if link.survey_status == SurveyStatus.DRAFT or link.launched_at is None:
        return list(session.scalars(select(Question).where(Question.survey_id == link.survey_id)
                                    .order_by(Question.position)))
    key = _asked_key(link.survey_id, link.launched_at)
    cached = _ASKED.get(key)
    if cached is None:
        cached = [AskedQuestion(
            id=q.id, code=q.code, type=q.type, text=q.text, options=list(q.options or []),
            required=q.required, scale_min=q.scale_min, scale_max=q.scale_max,
            scale_labels=list(q.scale_labels or []), min_value=q.min_value,
            max_value=q.max_value, show_if=q.show_if, translations=q.translations or {})
            for q in session.scalars(select(Question).where(Question.survey_id == link.survey_id)
                                     .order_by(Question.position))]
        with _ASKED_LOCK:
            if len(_ASKED) >= ASKED_CACHE_SIZE:
                _ASKED.clear()
            _ASKED[key] = cached
    return cached


def cached_questions(survey_id: int, launched_at: datetime) -> list[AskedQuestion] | None:
    """The questions of this launch of the survey, if this process has them already."""
    return _ASKED.get(_asked_key(survey_id, launched_at))


def _asked_key(survey_id: int, launched_at: datetime) -> tuple[int, str]:
    return survey_id, launched_at.isoformat()


# -- the questionnaire a page shows ------------------------------------------
# The page names the launch of the survey it shows, so a whole response to it can be
# checked against the questions this process keeps and saved in one statement that also
# checks the link belongs to that launch. A hyphen keeps it apart from question codes.
QUESTIONNAIRE_FIELD = "questionnaire-version"
# The language the page was shown in: the placeholders put in place of contact details in
# free-text answers are in it.
LANGUAGE_FIELD = "answer-language"


def questionnaire_version(survey_id: int, launched_at: datetime | None) -> str:
    return f"{survey_id}@{launched_at.isoformat()}" if launched_at else ""


def read_questionnaire_version(value: str) -> tuple[int, datetime] | None:
    survey_id, _, launched_at = value.partition("@")
    try:
        version = int(survey_id), datetime.fromisoformat(launched_at)
    except ValueError:
        return None
    # A launch is a moment in UTC: a time without its offset names no launch.
    return version if version[1].tzinfo is not None else None


def respond_page_context(session: Session, survey: Survey, language: str) -> dict:
    """What the respond page shows of a survey in a language: the sponsors by name, each
    question's words and choices, show-if in words, the closing date, the launch it is of."""
    names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    questions = list(survey.questions)
    return {
        "survey": survey, "language": language,
        "title": survey_text(survey, "title", language),
        "summary": survey_text(survey, "summary", language),
        "sponsor_names": ", ".join(names.get(s.agency, s.agency) for s in survey.sponsors),
        "choices": {q.code: choices(q, language) for q in questions},
        "texts": {q.code: text_in(q, language) for q in questions},
        "conditions": {q.code: condition_text(questions, q, language) for q in questions
                       if q.show_if},
        "closes": survey.fieldwork_end.strftime("%-d %B %Y") if survey.fieldwork_end
        else "the survey closes",
        "questionnaire_field": QUESTIONNAIRE_FIELD,
        "questionnaire_version": questionnaire_version(survey.id, survey.launched_at),
        "language_field": LANGUAGE_FIELD,
        "contact_details_notice": notice(language)
        if any(q.type == "free_text" for q in questions) else None,
    }


def page_language(survey: Survey, invitation: Invitation) -> str:
    """The language a member reads the survey in: theirs when the survey is offered in it."""
    return invitation.language if invitation.language in survey.languages else "en"


def thanks_context(survey: Survey, invitation: Invitation) -> dict:
    language = page_language(survey, invitation)
    return {"survey": survey, "language": language,
            "title": survey_text(survey, "title", language)}


def saved_answers(session: Session, invitation: Invitation,
                  questions: list[Question]) -> dict[str, object]:
    """The answers kept so far, by code (None for a question deliberately skipped)."""
    by_id = {q.id: q for q in questions}
    return {by_id[question_id].code: decode(by_id[question_id], value)
            for question_id, value in session.execute(
                select(SavedAnswer.question_id, SavedAnswer.value)
                .where(SavedAnswer.invitation_id == invitation.id)).all()
            if question_id in by_id}


def saved_answers_of(session: Session, invitations: list[Invitation],
                     questions: list) -> dict[int, dict[str, object]]:
    """The answers kept so far for each of these invitations, by invitation id, in one query."""
    by_id = {q.id: q for q in questions}
    kept: dict[int, dict[str, object]] = {i.id: {} for i in invitations}
    for start in range(0, len(invitations), 1000):
        ids = [i.id for i in invitations[start:start + 1000]]
        for invitation_id, question_id, value in session.execute(
                select(SavedAnswer.invitation_id, SavedAnswer.question_id, SavedAnswer.value)
                .where(SavedAnswer.invitation_id.in_(ids))):
            if question_id in by_id:
                kept[invitation_id][by_id[question_id].code] = decode(by_id[question_id], value)
    return kept


def save_progress(session: Session, invitation: Invitation, questions: list[Question],
                  answers: dict[str, object], skipped: tuple[str, ...] = ()) -> None:
    """Keep these answers (replacing earlier ones to the same questions); the caller commits."""
    by_code = {q.code: q for q in questions}
    values = {code: encode(by_code[code], value) for code, value in answers.items()}
    values.update({code: None for code in skipped})
    if not values:
        return
    ids = {by_code[code].id: value for code, value in values.items()}
    existing = {row.question_id: row for row in session.scalars(select(SavedAnswer).where(
        SavedAnswer.invitation_id == invitation.id, SavedAnswer.question_id.in_(ids)))}
    for question_id, value in ids.items():
        if question_id in existing:
            existing[question_id].value, existing[question_id].saved_at = value, utcnow()
        else:
            session.add(SavedAnswer(invitation_id=invitation.id, question_id=question_id,
                                    value=value))
    if invitation.started_at is None:
        invitation.started_at = utcnow()


def keep_progress(session: Session, *, link: Link, questions: list[Question],
                  answers: dict[str, object]) -> None:
    """The respondent's "save and come back later": keep these answers and commit."""
    invitation = session.get(Invitation, link.invitation_id)
    save_progress(session, invitation, questions,
                  clean_answers(questions, answers, _language_of(session, invitation)))
    session.commit()


def complete_response(session: Session, invitation: Invitation, questions: list[Question],
                      answers: dict[str, object], channel: str) -> Response:
    """Add the response with its answers to the session; the caller commits."""
    by_code = {q.code: q for q in questions}
    response = Response(
        survey_id=invitation.survey_id, invitation_id=invitation.id, channel=channel,
        answers=[Answer(question_id=by_code[code].id, value=encode(by_code[code], value))
                 for code, value in answers.items() if value is not None],
    )
    session.add(response)
    if invitation.dialogue_code is not None:
        invitation.dialogue_code = None
    if invitation.started_at is not None:  # only then can progress have been kept
        session.execute(delete(SavedAnswer).where(SavedAnswer.invitation_id == invitation.id))
    return response


def save_response(session: Session, link: Link, questions: list[Question], answers: dict,
                  channel: str = "web") -> None:
    """Save the complete response and commit; a second submission raises AlreadyAnswered.

    Contact details are taken out of free-text answers first."""
    answers = clean_answers(questions, answers, _language_of(
        session, session.get(Invitation, link.invitation_id)))
    try:
        # The statement itself leaves alone a link with progress saved or a dialogue open.
        saved = _in_one_statement(session.get_bind().dialect.name, answers) and \
            insert_whole_response(session.connection(), link.token, link.survey_id,
                                  link.launched_at, questions, answers, channel)
        if not saved:
            complete_response(session, session.get(Invitation, link.invitation_id), questions,
                              answers, channel)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered() from None


def _language_of(session: Session, invitation: Invitation) -> str:
    return page_language(session.get(Survey, invitation.survey_id), invitation)


def save_response_at_once(connection: Connection, token: str, version: tuple[int, datetime],
                          questions: list[AskedQuestion], answers: dict,
                          channel: str = "web", language: str = "en") -> bool:
    """The busiest path: a whole response to this launch of the survey in one statement, on a
    connection outside any transaction (the statement is atomic by itself).

    False when the link is not one this statement may answer (unknown, of another launch,
    closed, expired, progress saved, an SMS dialogue open); the caller then takes the long way.
    A second submission raises AlreadyAnswered.
    """
    if not _in_one_statement(connection.dialect.name, answers):
        return False
    answers = clean_answers(questions, answers, language)
    try:
        return insert_whole_response(connection, token, *version, questions, answers, channel)
    except IntegrityError:
        raise AlreadyAnswered() from None


def _in_one_statement(dialect: str, answers: dict) -> bool:
    """Whether the response and its answers can go in one statement: PostgreSQL (its
    data-modifying WITH), and at least one answer to insert."""
    return dialect == "postgresql" and any(value is not None for value in answers.values())


def _whole_response_statement():
    """PostgreSQL's data-modifying WITH: the response row, if the link is of this launch of the
    survey, in fieldwork and untouched, then its answers from two arrays.

    Built once with bound parameters, so SQLAlchemy compiles it once per process.
    """
    link = (select(_invitations.c.survey_id, _invitations.c.id,
                   bindparam("channel", type_=String),
                   bindparam("submitted_at", type_=DateTime(timezone=True)))
            .select_from(_invitations.join(_surveys, _surveys.c.id == _invitations.c.survey_id))
            .where(_invitations.c.token == bindparam("token"),
                   _invitations.c.survey_id == bindparam("survey_id"),
                   _surveys.c.launched_at == bindparam("launched_at"),
                   _surveys.c.status == SurveyStatus.FIELDWORK,
                   or_(_surveys.c.fieldwork_end.is_(None),
                       _surveys.c.fieldwork_end >= bindparam("today", type_=Date)),
                   _invitations.c.started_at.is_(None), _invitations.c.dialogue_code.is_(None)))
    response = (insert(Response)
                .from_select(["survey_id", "invitation_id", "channel", "submitted_at"], link)
                .returning(Response.id).cte("response"))
    given = func.unnest(bindparam("question_ids", type_=ARRAY(Integer)),
                        bindparam("values", type_=ARRAY(Text))
                        ).table_valued("question_id", "value").render_derived(name="given")
    return insert(Answer).from_select(
        ["response_id", "question_id", "value"],
        select(response.c.id, given.c.question_id, given.c.value)
        .select_from(response.join(given, true()))
    ).add_cte(response).returning(Answer.response_id)


_WHOLE_RESPONSE = _whole_response_statement()


@functools.cache
def _whole_response_sql(dialect: Dialect) -> tuple[str, dict]:
    """The statement as the driver takes it, with its fixed parameters: compiled once, so each
    answer skips SQLAlchemy's per-call compile-cache lookup and parameter processing (a sixth
    of this path's CPU), while errors still come through SQLAlchemy as any other's."""
    compiled = _WHOLE_RESPONSE.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def insert_whole_response(connection: Connection, token: str, survey_id: int,
                          launched_at: datetime, questions: list, answers: dict,
                          channel: str) -> bool:
    """One round trip for the busiest write there is; whether the response was saved."""
    by_code = {q.code: q for q in questions}
    given = [(by_code[code].id, encode(by_code[code], value))
             for code, value in answers.items() if value is not None]
    sql, fixed = _whole_response_sql(connection.dialect)
    result = connection.exec_driver_sql(sql, {
        **fixed, "token": token, "survey_id": survey_id, "launched_at": launched_at,
        "today": date.today(), "channel": channel, "submitted_at": utcnow(),
        "question_ids": [g[0] for g in given], "values": [g[1] for g in given]})
    return result.first() is not None


# -- the SMS dialogue --------------------------------------------------------


def _next_question(questions: list[Question], answers: dict[str, object]) -> Question | None:
    """The first question shown by the answers so far that has no answer (or skip) yet."""
    for question in visible(questions, answers):
        if question.code not in answers:
            return question
    return None


def _ask(invitation: Invitation, questions: list[Question], answers: dict,
         question: Question, retry: str | None = None) -> dict:
    shown = visible(questions, answers)
    position = shown.index(question) + 1 if question in shown else 1
    invitation.dialogue_code, invitation.dialogue_at = question.code, utcnow()
    text = question_text(question, invitation.language, position, len(shown), retry)
    # Every sending has its own reference: panel takes a known reference for a repeat.
    return _recipient(invitation, text,
                      f"dialogue:{invitation.id}:{question.code}:{secrets.token_hex(4)}")


def _recipient(invitation: Invitation, text: str, delivery_ref: str) -> dict:
    return {"member_ref": invitation.member_ref, "delivery_ref": delivery_ref[:200],
            "text": text, "channel": "sms"}


def send_dialogue(session: Session, bus: Bus, recipients: list[dict], batch_size: int) -> None:
    for start in range(0, len(recipients), batch_size):
        bus.send(session, "panel.deliver", {"template": "dialogue", "context": {},
                                            "recipients": recipients[start:start + batch_size]})


def open_dialogues(session: Session, bus: Bus, survey: Survey, invitations: list[Invitation],
                   batch_size: int) -> None:
    """Send each SMS invitee the survey's first question."""
    questions = list(survey.questions)
    recipients = []
    for invitation in invitations:
        first = _next_question(questions, {})
        if first is not None:
            recipients.append(_ask(invitation, questions, {}, first))
    if recipients:
        send_dialogue(session, bus, recipients, batch_size)


def current_question_again(invitation: Invitation, questions: list[Question],
                           answers: dict) -> dict | None:
    """The question awaiting a reply, sent again (to resume after a pause or on a reminder)."""
    question = _next_question(questions, answers)
    return _ask(invitation, questions, answers, question) if question else None


def dialogue_invitation(session: Session, member_ref: str) -> Invitation | None:
    """The member's open SMS dialogue: the one whose question was sent to them last."""
    return session.scalar(
        select(Invitation)
        .join(Survey, Survey.id == Invitation.survey_id)
        .outerjoin(Response, Response.invitation_id == Invitation.id)
        .where(Invitation.member_ref == member_ref, Invitation.dialogue_code.is_not(None),
               Survey.status == SurveyStatus.FIELDWORK, Response.id.is_(None))
        .order_by(Invitation.dialogue_at.desc(), Invitation.id.desc())
        .limit(1)
    )


def first_reading(session: Session, provider_id: str) -> bool:
    """Record an SMS reply's provider id; False when a reply with it was read before.

    A copy racing this one fails on the primary key with its whole message, and the
    retry of that message finds the row.
    """
    provider_id = provider_id[:64]
    if session.get(SmsReplyReceived, provider_id) is not None:
        return False
    session.add(SmsReplyReceived(provider_id=provider_id))
    session.flush()
    return True


def reply_to_dialogue(session: Session, bus: Bus, payload: dict, batch_size: int = 1000) -> str:
    """Read one SMS reply: save the answer, then ask the next question or say thank you.

    Returns what happened: "answered", "retry", "completed", "no_dialogue" or "repeated" (a
    reply with the provider id of one read before: the gateway or panel sent it twice).
    """
    if payload.get("provider_id") and not first_reading(session, payload["provider_id"]):
        return "repeated"
    invitation = dialogue_invitation(session, str(payload["member_ref"]))
    if invitation is None:
        return "no_dialogue"
    survey = session.get(Survey, invitation.survey_id)
    questions = list(survey.questions)
    answers = saved_answers(session, invitation, questions)
    current = _next_question(questions, answers)
    if current is None:
        current = next(q for q in questions if q.code == invitation.dialogue_code)
    reading = read_reply(current, payload["body"], invitation.language)
    if reading.problem:
        invitation.dialogue_misses += 1
        send_dialogue(session, bus, [_ask(invitation, questions, answers, current,
                                          retry=reading.problem)], batch_size)
        return "retry"
    invitation.dialogue_misses = 0
    if reading.skipped:
        save_progress(session, invitation, questions, {}, skipped=(current.code,))
        answers[current.code] = None
    else:
        value = clean_answers(questions, {current.code: reading.value},
                              invitation.language)[current.code]
        save_progress(session, invitation, questions, {current.code: value})
        answers[current.code] = value
    following = _next_question(questions, answers)
    if following is None:
        shown = {q.code for q in visible(questions, answers)}
        complete_response(session, invitation, questions,
                          {code: value for code, value in answers.items() if code in shown},
                          channel="sms")
        send_dialogue(session, bus, [_recipient(invitation, words(invitation.language)["thanks"],
                                                f"dialogue:{invitation.id}:thanks")], batch_size)
        return "completed"
    send_dialogue(session, bus, [_ask(invitation, questions, answers, following)], batch_size)
    return "answered"
