"""The SMS dialogue: each question as one text, and lenient reading of the replies to it.

Its own words are English here and translated through surveys' catalogue
(translations/<language>/LC_MESSAGES/messages.po, read by shared/catalogues.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from services.surveys.questions import (
    SMS_TEXT_LIMIT,
    QuestionLike,
    check_value,
    option_labels,
    scale_labels,
    text_in,
)
from shared.catalogues import N_, translations

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
}
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ye", "yes please", "ok", "sure", "ydw", "oes"}
NO_WORDS = {"no", "n", "nope", "nah", "no thanks", "na", "nac ydw", "nac oes", "naddo"}
SKIP_WORDS = {"skip", "pass", "next"}
# Words that say nothing about which option is meant ("more police", "the lighting please"),
# in English and Welsh; a reply is matched to an option by the words left.
SMALL_WORDS = {
    "a", "an", "the", "and", "or", "of", "to", "for", "on", "in", "at", "more", "better",
    "most", "some", "please", "i", "id", "want", "would", "like", "we", "need", "just",
    "y", "yr", "r", "ac", "ar", "o", "am", "mwy", "fwy", "gwell", "well", "os", "gwelwch", "dda",
}

SURVEYS_DIR = Path(__file__).parent
WORDS = {
    "skip": N_("Reply SKIP to skip it."),
    "sorry": N_("Sorry, we could not read that."),
    "required": N_("This one needs an answer."),
    "thanks": N_("Thank you, your answers are saved. We will tell you what was decided and why."),
    "reply_choice": N_("Reply %(choices)s."),
    "reply_number": N_("Reply with a number from %(low)s to %(high)s."),
    "reply_yes_no": N_("Reply YES or NO."),
    "reply_text": N_("Reply with your answer."),
    "reply_whole": N_("Reply with a whole number."),
    "reply_whole_range": N_("Reply with a whole number from %(low)s to %(high)s."),
}


def words(language: str) -> dict[str, str]:
    """The dialogue's words in language; those with %(name)s placeholders are filled by the
    caller, and a missing one is a KeyError, never a blank."""
    say = translations(SURVEYS_DIR, language).gettext
    return {name: say(text) for name, text in WORDS.items()}


@dataclass(frozen=True)
class Reading:
    """What a reply meant: a stored value, a deliberate skip, or not readable (with the hint)."""

    value: str | None = None
    skipped: bool = False
    problem: str | None = None


def hint(question: QuestionLike, language: str) -> str:
    """How to reply to the question, e.g. "Reply 1 Street lighting, 2 Police patrols"."""
    say = words(language)
    if question.type == "single_choice":
        labels = option_labels(question, language)
        choices = ", ".join(f"{i} {label}" for i, label in enumerate(labels, 1))
        return say["reply_choice"] % {"choices": choices}
    if question.type == "rating":
        labels = scale_labels(question, language)
        text = say["reply_number"] % {"low": question.scale_min, "high": question.scale_max}
        if labels:
            text += f" ({question.scale_min} {labels[0]}, {question.scale_max} {labels[-1]})"
        return text
    if question.type == "yes_no":
        return say["reply_yes_no"]
    if question.type == "number":
        low, high = question.min_value, question.max_value
        if low is None or high is None:
            return say["reply_whole"]
        return say["reply_whole_range"] % {"low": low, "high": high}
    return say["reply_text"]


def question_text(question: QuestionLike, language: str, position: int, total: int,
                  retry: str | None = None) -> str:
    """One SMS asking one question, with its hint; on a retry the reason comes first."""
    say = words(language)
    parts = [retry] if retry else []
    parts += [f"Q{position}/{total}: {text_in(question, language)}", hint(question, language)]
    if not question.required:
        parts.append(say["skip"])
    return " ".join(parts)[:1600]


def _as_number(text: str) -> int | None:
    cleaned = text.strip().rstrip(".!").strip()
    if re.fullmatch(r"[-+]?\d{1,12}", cleaned):
        return int(cleaned)
    if cleaned in NUMBER_WORDS:
        return NUMBER_WORDS[cleaned]
    match = re.fullmatch(r"(?:option|number|no\.?|#)\s*(\d{1,12})", cleaned)
    return int(match.group(1)) if match else None


def meaningful_words(text: str) -> set[str]:
    """The words of a text that can tell options apart: lower case, no punctuation, no small
    words."""
    return {word for word in re.findall(r"\w+", text.lower()) if word not in SMALL_WORDS}


def _word_in(word: str, option_words: set[str]) -> bool:
    # "lights" and "light" for "lighting", "patrol" for "patrols"; a stem shorter than four
    # letters would match too much.
    stem = word[:-1] if word.endswith("s") and len(word) > 4 else word
    return word in option_words or (len(stem) >= 4 and any(w.startswith(stem)
                                                           for w in option_words))


def options_by_words(reply: str, options: list[str]) -> list[int]:
    """The options (by index) whose words contain every meaningful word of the reply."""
    wanted = meaningful_words(reply)
    if not wanted:
        return []
    return [index for index, option in enumerate(options)
            if all(_word_in(word, meaningful_words(option)) for word in wanted)]


def read_reply(question: QuestionLike, body: str, language: str = "en") -> Reading:
    """Read a reply leniently: "2", " 2 ", "two", the option's words, "Yes", "y", SKIP."""
    say = words(language)
    text = " ".join(body.strip().lower().split())
    if text in SKIP_WORDS:
        if question.required:
            return Reading(problem=say["required"])
        return Reading(skipped=True)
    if not text:
        return Reading(problem=say["sorry"])
    kind = question.type
    if kind == "single_choice":
        labels = [label.lower() for label in option_labels(question, language)]
        canonical = [option.lower() for option in question.options]
        number = _as_number(text)
        if number is not None and 1 <= number <= len(question.options):
            return Reading(value=question.options[number - 1])
        for names in (labels, canonical):
            if text in names:
                return Reading(value=question.options[names.index(text)])
        starts = [i for i, name in enumerate(labels) if name.startswith(text) and len(text) >= 3]
        if len(starts) == 1:
            return Reading(value=question.options[starts[0]])
        matches = options_by_words(text, [f"{label} {option}" for label, option in
                                          zip(labels, canonical, strict=True)])
        if len(matches) == 1:
            return Reading(value=question.options[matches[0]])
        return Reading(problem=say["sorry"])
    if kind == "yes_no":
        if text.rstrip(".!") in YES_WORDS or text == "1":
            return Reading(value="yes")
        if text.rstrip(".!") in NO_WORDS or text == "2":
            return Reading(value="no")
        return Reading(problem=say["sorry"])
    if kind in ("rating", "number"):
        number = _as_number(text)
        if number is None:
            return Reading(problem=say["sorry"])
        value, error = check_value(question, number)
        return Reading(value=value) if error is None else Reading(problem=say["sorry"])
    value, error = check_value(question, body.strip()[:SMS_TEXT_LIMIT * 10])
    return Reading(value=value) if error is None else Reading(problem=say["sorry"])
