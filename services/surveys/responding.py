"""Answering a survey by web: checking answers against the questions and saving them once."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.surveys.models import Answer, Invitation, Question, Response

FREE_TEXT_LIMIT = 2000


class AlreadyAnswered(Exception):
    """This invitation's response was submitted before."""


def _field_for(question: Question) -> fields.Field:
    required = {"required": "Answer this question."}
    if question.type == "single_choice":
        return fields.String(required=question.required, error_messages=required,
                             validate=validate.OneOf(question.options,
                                                     error="Choose one of the options."))
    if question.type == "rating":
        return fields.Integer(
            required=question.required, error_messages={**required, "invalid": "Choose a point."},
            validate=validate.Range(question.scale_min, question.scale_max,
                                    error="Choose a point on the scale."))
    return fields.String(required=question.required, error_messages=required,
                         validate=validate.Length(max=FREE_TEXT_LIMIT, error=(
                             f"Keep your answer under {FREE_TEXT_LIMIT} characters.")))


def answers_schema(questions: list[Question]) -> Schema:
    return Schema.from_dict({q.code: _field_for(q) for q in questions})()


def read_answers(questions: list[Question], form: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """The answers given, and an error message per question code; blank means unanswered."""
    given = {q.code: form[q.code].strip() for q in questions
             if form.get(q.code, "").strip() != ""}
    try:
        return answers_schema(questions).load(given), {}
    except ValidationError as exc:
        return {}, {code: messages[0] for code, messages in exc.messages.items()}


def choices(question: Question) -> list[tuple[str, str]]:
    """The (value, label) pairs a citizen chooses from."""
    if question.type == "single_choice":
        return [(option, option) for option in question.options]
    if question.type == "rating":
        points = range(question.scale_min, question.scale_max + 1)
        labels = question.scale_labels or []
        return [(str(p), f"{p} – {labels[i]}" if labels else str(p)) for i, p in enumerate(points)]
    return []


def save_response(session: Session, invitation: Invitation, questions: list[Question],
                  answers: dict, channel: str = "web") -> Response:
    by_code = {q.code: q for q in questions}
    response = Response(
        survey_id=invitation.survey_id, invitation_id=invitation.id, channel=channel,
        answers=[Answer(question_id=by_code[code].id, value=str(value))
                 for code, value in answers.items()],
    )
    session.add(response)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered() from None
    return response
