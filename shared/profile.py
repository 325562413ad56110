"""The one vocabulary of a member's non-identifying profile, shared by every service.

Which dimensions a profile has, their categories in natural order with the words people see,
the area (ward) code rule, the languages, and the partnership's own declared extra attributes,
which are checked here so that no contact detail ever rides in one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
GENDERS = ("female", "male", "other")
ETHNICITIES = ("asian", "black", "mixed", "white", "other")
DISABILITY = ("disabled", "not_disabled")
TENURES = ("owned", "social_rented", "private_rented")
DEPRIVATION_DECILES = tuple(str(decile) for decile in range(1, 11))  # 1 = most deprived
LANGUAGES = ("en", "cy")
LANGUAGE_LABELS = {"en": "English", "cy": "Cymraeg"}

# Every dimension of a profile, in the order pages and datasets show them.
PROFILE_DIMENSIONS = ("age_band", "gender", "ethnicity", "disability", "area",
                      "deprivation_decile", "tenure")
REQUIRED_DIMENSIONS = ("age_band", "gender", "ethnicity", "disability", "area")
# The categories of every dimension with a fixed set of them (an area is any ward code).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "gender": GENDERS,
    "ethnicity": ETHNICITIES,
    "disability": DISABILITY,
    "deprivation_decile": DEPRIVATION_DECILES,
    "tenure": TENURES,
}
DIMENSION_LABELS = {
    "age_band": "Age", "gender": "Gender", "ethnicity": "Ethnic group",
    "disability": "Disability", "area": "Ward", "deprivation_decile": "Deprivation decile",
    "tenure": "Housing tenure",
}
LABELS = {
    "age_band": {band: band.replace("-", " to ") for band in AGE_BANDS},
    "gender": {"female": "Female", "male": "Male", "other": "Another gender"},
    "ethnicity": {
        "asian": "Asian, Asian British or Asian Welsh",
        "black": "Black, Black British, Black Welsh, Caribbean or African",
        "mixed": "Mixed or Multiple ethnic groups",
        "white": "White",
        "other": "Other ethnic group",
    },
    "disability": {"disabled": "Disabled", "not_disabled": "Not disabled"},
    "deprivation_decile": {
        decile: f"Decile {decile}" + {"1": " (most deprived)", "10": " (least deprived)"}.get(
            decile, "") for decile in DEPRIVATION_DECILES},
    "tenure": {"owned": "Owned (including shared ownership)", "social_rented": "Social rented",
               "private_rented": "Private rented (including rent free)"},
}

# A ward's GSS code: E05 (England) or W05 (Wales) and six digits.
AREA_CODE = re.compile(r"[EW]05\d{6}")
AREA_CODE_ERROR = "Give the area as a ward code, like E05000001."


def is_area_code(value: str) -> bool:
    return AREA_CODE.fullmatch(value) is not None


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension)


def category_label(dimension: str, category: str, area_names: dict | None = None) -> str:
    """The words a person reads for one category: a ward's name, never its bare code when
    the name is known."""
    if dimension == "area":
        return (area_names or {}).get(category) or category
    return LABELS.get(dimension, {}).get(str(category), str(category))


# -- the partnership's extra attributes ---------------------------------------------------

# A cell a spreadsheet would run as a formula when the data is opened again (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXTRA_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
EXTRA_TYPES = ("integer", "text")
EXTRA_TEXT_MAX = 100
EXTRA_INTEGER_MAX = 999_999  # six digits: a count, never a phone number


@dataclass(frozen=True)
class ExtraAttribute:
    """One attribute the partnership declares: a name and its allowed values, or a type."""

    name: str
    values: tuple[str, ...] = ()  # the allowed values; empty when `kind` says what is allowed
    kind: str = "choice"  # "choice", "integer" or "text"

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(self.values)
        return f"a whole number from 0 to {EXTRA_INTEGER_MAX:,}" if self.kind == "integer" \
            else "short text"


class ExtraAttributesInvalid(ValueError):
    """The PROFILE_EXTRA_ATTRIBUTES setting cannot be read."""


def parse_extra_attributes(setting: str) -> dict[str, ExtraAttribute]:
    """`carer=yes|no;household_size=integer;club=text` as {name: ExtraAttribute}."""
    declared: dict[str, ExtraAttribute] = {}
    for part in (p.strip() for p in (setting or "").split(";")):
        if not part:
            continue
        name, equals, spec = (s.strip() for s in part.partition("="))
        if not equals or not spec:
            raise ExtraAttributesInvalid(f"{part!r}: write name=value|value or name=integer|text")
        if not EXTRA_NAME.fullmatch(name) or name in PROFILE_DIMENSIONS or name in declared:
            raise ExtraAttributesInvalid(
                f"{name!r}: a new lower-case name (letters, digits, _), at most 40 characters")
        if spec in EXTRA_TYPES:
            declared[name] = ExtraAttribute(name, kind=spec)
            continue
        values = tuple(v.strip() for v in spec.split("|"))
        if len(values) < 2 or not all(values) or any(contact_data_kind(v) for v in values):
            raise ExtraAttributesInvalid(f"{name!r}: give two or more values, like yes|no")
        declared[name] = ExtraAttribute(name, values=values)
    return declared


EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
URL_LIKE = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|org|net|uk|io|info|gov|co)\b)",
                      re.IGNORECASE)
LONG_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{8,}\d")


def formula_problem(value: str) -> str | None:
    """Why free text is refused as a would-be spreadsheet formula, or None."""
    if value.startswith(FORMULA_START):
        return ("starts with a character a spreadsheet reads as a formula "
                "(=, +, -, @, tab or return): remove it")
    return None


def inert_text(value: str) -> str:
    """Text a spreadsheet opening a CSV shows and never runs: a leading quote, as OWASP
    advises, before text that would otherwise start a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def contact_data_kind(value: str) -> str | None:
    """What kind of contact detail the text looks like ("an email address", …), or None."""
    if EMAIL_LIKE.search(value):
        return "an email address"
    # A long run of digits counts too: Ofcom's drama numbers are not "valid" to phonenumbers.
    if LONG_DIGIT_RUN.search(value) or any(phonenumbers.PhoneNumberMatcher(value, "GB")):
        return "a phone number"
    if UK_POSTCODE.search(value):
        return "a postcode"
    if URL_LIKE.search(value):
        return "a web address"
    return None


def extra_problems(extra: dict, declared: dict[str, ExtraAttribute]) -> dict[str, str]:
    """{attribute name: why its value is refused}; empty when every attribute is fine."""
    problems = {}
    for name, value in extra.items():
        attribute = declared.get(name)
        text = str(value).strip()
        if attribute is None:
            allowed = ", ".join(declared) or "none"
            problems[name] = (f"not an attribute the partnership collects "
                              f"(declared: {allowed})")
        elif attribute.kind == "integer":  # a number, so never a phone number either
            if not re.fullmatch(r"[0-9]{1,6}", text):
                problems[name] = f"must be {attribute.describe()}"
        elif (kind := contact_data_kind(text)) is not None:
            problems[name] = f"looks like {kind}: never put contact details in a profile"
        elif attribute.kind == "choice" and text not in attribute.values:
            problems[name] = f"must be {attribute.describe()}"
        elif attribute.kind == "text" and not 0 < len(text) <= EXTRA_TEXT_MAX:
            problems[name] = f"must be 1 to {EXTRA_TEXT_MAX} characters"
        elif attribute.kind == "text" and (formula := formula_problem(str(value))):
            problems[name] = formula
    return problems
