"""Answering a survey by web or SMS dialogue: progress kept as it comes, the response saved once."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import Integer, Text, column, delete, insert, select, true, values
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.surveys.models import Answer, Invitation, Question, Response, SavedAnswer, Survey
from services.surveys.questions import decode, encode, visible
from services.surveys.sms_dialogue import question_text, read_reply, words
from shared.bus import Bus, utcnow


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


_ASKED: dict[tuple, list[AskedQuestion]] = {}
_ASKED_LOCK = threading.Lock()
ASKED_CACHE_SIZE = 256


def asked_questions(session: Session, survey: Survey) -> list:
    """The survey's questions; once launched they are fixed, so each process keeps a copy.

    Answering is the busiest path there is, and this saves it a query per response.
    """
    if survey.status == "draft" or survey.launched_at is None:
        return list(survey.questions)
    key = (survey.id, survey.launched_at.isoformat())
    cached = _ASKED.get(key)
    if cached is None:
        cached = [AskedQuestion(
            id=q.id, code=q.code, type=q.type, text=q.text, options=list(q.options or []),
            required=q.required, scale_min=q.scale_min, scale_max=q.scale_max,
            scale_labels=list(q.scale_labels or []), min_value=q.min_value,
            max_value=q.max_value, show_if=q.show_if, translations=q.translations or {})
            for q in session.scalars(select(Question).where(Question.survey_id == survey.id)
                                     .order_by(Question.position))]
        with _ASKED_LOCK:
            if len(_ASKED) >= ASKED_CACHE_SIZE:
                _ASKED.clear()
            _ASKED[key] = cached
    return cached


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


def save_response(session: Session, invitation: Invitation, questions: list[Question],
                  answers: dict, channel: str = "web") -> Response | None:
    """Save the complete response and commit; a second submission raises AlreadyAnswered."""
    response = None
    try:
        if _in_one_statement(session, invitation, answers):
            _insert_response_and_answers(session, invitation, questions, answers, channel)
        else:
            response = complete_response(session, invitation, questions, answers, channel)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered() from None
    return response


def _in_one_statement(session: Session, invitation: Invitation, answers: dict) -> bool:
    """Whether the response and its answers can go in one statement: PostgreSQL, nothing else
    to change on the invitation, at least one answer."""
    return (session.get_bind().dialect.name == "postgresql" and invitation.started_at is None
            and invitation.dialogue_code is None
            and any(value is not None for value in answers.values()))


def _insert_response_and_answers(session: Session, invitation: Invitation,
                                 questions: list[Question], answers: dict, channel: str) -> None:
    """One round trip for the busiest write there is (PostgreSQL's data-modifying WITH)."""
    by_code = {q.code: q for q in questions}
    response = (insert(Response)
                .values(survey_id=invitation.survey_id, invitation_id=invitation.id,
                        channel=channel, submitted_at=utcnow())
                .returning(Response.id).cte("response"))
    given = values(column("question_id", Integer), column("value", Text), name="given").data(
        [(by_code[code].id, encode(by_code[code], value))
         for code, value in answers.items() if value is not None])
    # Through the connection: a Core statement, not an ORM bulk insert.
    session.connection().execute(insert(Answer).from_select(
        ["response_id", "question_id", "value"],
        select(response.c.id, given.c.question_id, given.c.value)
        .select_from(response.join(given, true()))).add_cte(response))


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
               Survey.status == "fieldwork", Response.id.is_(None))
        .order_by(Invitation.dialogue_at.desc(), Invitation.id.desc())
        .limit(1)
    )


def reply_to_dialogue(session: Session, bus: Bus, payload: dict, batch_size: int = 1000) -> str:
    """Read one SMS reply: save the answer, then ask the next question or say thank you.

    Returns what happened: "answered", "retry", "completed" or "no_dialogue".
    """
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
        save_progress(session, invitation, questions, {current.code: reading.value})
        answers[current.code] = reading.value
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
