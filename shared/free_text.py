"""Contact details taken out of free text: emails, phone numbers, UK postcodes and web links,
each replaced by a marked placeholder ("[phone number removed]") before the text is stored,
queued or logged anywhere outside panel.

Pure: no Flask, no database. The placeholders are given by the caller in the reader's
language (each service translates the English ones below through its own catalogue).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import phonenumbers

KINDS = ("email", "link", "phone", "postcode")
# The English placeholders; services mark the same texts with N_ so their catalogues translate
# them (tests/shared/test_free_text.py keeps the copies equal).
PLACEHOLDERS = {
    "email": "[email address removed]",
    "link": "[web link removed]",
    "phone": "[phone number removed]",
    "postcode": "[postcode removed]",
}

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
LINK = re.compile(
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|uk|io|info|gov|co|cymru|wales|eu|me)\b"
    r"(?:/[^\s<>\"']*)?",
    re.IGNORECASE)
UK_POSTCODE = re.compile(r"\b(?:GIR\s*0AA|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b", re.IGNORECASE)
# Ofcom's drama numbers (07700 900xxx) are not valid to phonenumbers, nor are many numbers
# typed with a digit too many or too few: a run of ten or more digits is a number all the same.
DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]{7,}\d")
MIN_RUN_DIGITS = 10
MIN_MATCH_DIGITS = 8
# A link ending with these is a sentence going on ("see www.x.org."), not the link.
TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Cleaned:
    """A text with its contact details replaced, and how many of each kind were removed."""

    text: str
    removed: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.removed.values())


def _spans_of_links(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in LINK.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def _spans_of_phones(text: str) -> list[tuple[int, int]]:
    # POSSIBLE rather than VALID: a number one digit out, or a drama number, still goes; a
    # year or an amount is too short to be one.
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)
        if len(re.sub(r"\D", "", m.raw_string)) >= MIN_MATCH_DIGITS]
    spans += [m.span() for m in DIGIT_RUN.finditer(text)
              if len(re.sub(r"\D", "", m.group())) >= MIN_RUN_DIGITS]
    return spans


def _replace(text: str, spans: Iterable[tuple[int, int]], placeholder: str) -> tuple[str, int]:
    """The text with each span (merged where they overlap) replaced by the placeholder."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + placeholder + text[end:]
    return text, len(merged)


def remove_contact_details(text: str, placeholders: Mapping[str, str] = PLACEHOLDERS
                           ) -> Cleaned:
    """The text with every email address, web link, phone number (UK and international) and
    UK postcode replaced by its placeholder, in that order (an address is not also a link)."""
    removed: Counter = Counter()
    finders = {
        "email": lambda t: [m.span() for m in EMAIL.finditer(t)],
        "link": _spans_of_links,
        "phone": _spans_of_phones,
        "postcode": lambda t: [m.span() for m in UK_POSTCODE.finditer(t)],
    }
    for kind in KINDS:
        text, count = _replace(text, finders[kind](text), placeholders[kind])
        if count:
            removed[kind] = count
    return Cleaned(text, removed)


def count_removed(text: str, placeholders: Iterable[Mapping[str, str]] = (PLACEHOLDERS,)
                  ) -> Counter:
    """How many contact details of each kind were removed from a stored text, read from its
    placeholders (in any of the languages given)."""
    found: Counter = Counter()
    for words in placeholders:
        for kind, placeholder in words.items():
            if (count := text.count(placeholder)):
                found[kind] += count
    return found
