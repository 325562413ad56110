"""What each question type accepts, how it reads in a language, and when show-if skips it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Protocol

QUESTION_TYPES = ("single_choice", "multiple_choice", "rating", "yes_no", "number", "free_text")
CHANNELS = ("web", "sms_link", "sms_dialogue")
YES_NO = ("yes", "no")
SMS_MAX_OPTIONS = 9
FREE_TEXT_LIMIT = 2000
SMS_TEXT_LIMIT = 160
# A number question's answers where its builder set no bound: wide enough for any count a
# survey asks, and small enough that a mean of them is always a number.
NUMBER_ANSWER_LIMIT = 999_999_999


class QuestionLike(Protocol):
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


def sms_problem(question: Mapping) -> str | None:
    """Why a question (as submitted) cannot be asked by SMS dialogue, or None when it can."""
    kind = question["type"]
    if kind == "multiple_choice":
        return "A multiple-choice question cannot be answered by SMS dialogue."
    if kind == "single_choice" and len(question.get("options") or []) > SMS_MAX_OPTIONS:
        return (f"A single-choice question asked by SMS dialogue can have at most "
                f"{SMS_MAX_OPTIONS} options.")
    return None


def text_in(question: QuestionLike, language: str) -> str:
    return (question.translations or {}).get(language, {}).get("text") or question.text


def survey_text(survey, name: str, language: str) -> str:
    """A survey's own title or summary in a language it was given in, else in English."""
    return (survey.translations or {}).get(language, {}).get(name) or getattr(survey, name)


def option_labels(question: QuestionLike, language: str) -> list[str]:
    """The options as the member reads them; answers are always stored as the canonical option."""
    translated = (question.translations or {}).get(language, {}).get("options")
    return translated if translated and len(translated) == len(question.options) else \
        list(question.options)


def scale_labels(question: QuestionLike, language: str) -> list[str]:
    translated = (question.translations or {}).get(language, {}).get("labels")
    return translated or list(question.scale_labels or [])


YES_NO_WORDS = {"en": ("Yes", "No"), "cy": ("Ydw", "Nac ydw")}


def choices(question: QuestionLike, language: str = "en") -> list[tuple[str, str]]:
    """The (stored value, label) pairs a citizen chooses from, in their language."""
    if question.type in ("single_choice", "multiple_choice"):
        return list(zip(question.options, option_labels(question, language), strict=True))
    if question.type == "rating":
        labels = scale_labels(question, language)
        points = range(question.scale_min, question.scale_max + 1)
        return [(str(p), f"{p} – {labels[i]}" if labels else str(p))
                for i, p in enumerate(points)]
    if question.type == "yes_no":
        return list(zip(YES_NO, YES_NO_WORDS.get(language, YES_NO_WORDS["en"]), strict=True))
    return []


def decode(question: QuestionLike, value: str | None):
    """A stored value as the question's type reads it (a list for multiple choice)."""
    if value is None:
        return None
    if question.type == "multiple_choice":
        return json.loads(value)
    return value


def encode(question: QuestionLike, value) -> str:
    if question.type == "multiple_choice":
        return json.dumps(list(value))
    return str(value)


def is_shown(question: QuestionLike, answers: Mapping[str, object]) -> bool:
    """Whether a question is asked, given the answers so far (stored values by code)."""
    rule = question.show_if
    if not rule:
        return True
    given = answers.get(rule["question"])
    if given is None:
        return False
    wanted = {str(v) for v in rule["in"]}
    if isinstance(given, list):
        return bool(wanted.intersection(given))
    return str(given) in wanted


def visible(questions: Iterable[QuestionLike], answers: Mapping[str, object]) -> list:
    """The questions asked, in order, given the answers (show-if refers to earlier questions)."""
    shown = []
    for question in questions:
        if is_shown(question, answers):
            shown.append(question)
    return shown


def check_value(question: QuestionLike, raw) -> tuple[object, str | None]:
    """The stored form of one given answer, or an error saying what is wrong with it."""
    kind = question.type
    if kind == "single_choice":
        if raw not in question.options:
            return None, "Choose one of the options."
        return raw, None
    if kind == "multiple_choice":
        picked = [raw] if isinstance(raw, str) else list(raw)
        if not picked or any(p not in question.options for p in picked):
            return None, "Choose from the options."
        return [o for o in question.options if o in picked], None
    if kind == "yes_no":
        if raw not in YES_NO:
            return None, "Choose yes or no."
        return raw, None
    if kind in ("rating", "number"):
        try:
            number = int(str(raw).strip())
        except ValueError:
            return None, ("Choose a point." if kind == "rating" else "Enter a whole number.")
        if kind == "rating":
            low, high = question.scale_min, question.scale_max
            if (low is not None and number < low) or (high is not None and number > high):
                return None, "Choose a point on the scale."
            return str(number), None
        low = -NUMBER_ANSWER_LIMIT if question.min_value is None else question.min_value
        high = NUMBER_ANSWER_LIMIT if question.max_value is None else question.max_value
        if not low <= number <= high:
            return None, f"Enter a number from {low} to {high}."
        return str(number), None
    text = str(raw).strip()
    if len(text) > FREE_TEXT_LIMIT:
        return None, f"Keep your answer under {FREE_TEXT_LIMIT} characters."
    return text, None


def read_answers(questions: list, given: Mapping[str, object],
                 partial: bool = False) -> tuple[dict, dict[str, str]]:
    """Answers by code checked against the questions, and an error per code.

    `given` holds what was entered (a list for multiple choice; blank means unanswered).
    Questions that show-if hides are dropped. With `partial`, missing answers are not errors
    (progress saved to come back to).
    """
    answers: dict[str, object] = {}
    errors: dict[str, str] = {}
    for question in questions:
        if not is_shown(question, answers):
            continue
        raw = given.get(question.code)
        if isinstance(raw, str):
            raw = raw.strip()
        if raw in (None, "", []):
            if question.required and not partial:
                errors[question.code] = "Answer this question."
            continue
        value, error = check_value(question, raw)
        if error:
            errors[question.code] = error
        else:
            answers[question.code] = value
    return answers, errors


def condition_text(questions: Iterable[QuestionLike], question: QuestionLike,
                   language: str) -> str | None:
    """When a show-if question applies, in words (what a page without JavaScript shows)."""
    rule = question.show_if
    if not rule:
        return None
    earlier = next((q for q in questions if q.code == rule["question"]), None)
    if earlier is None:
        return None
    labels = dict(choices(earlier, language))
    wanted = " or ".join(f"“{labels.get(value, value)}”" for value in rule["in"])
    return f"Answer this only if you answered {wanted} to “{text_in(earlier, language)}”."
