"""The one place panel reads the phone numbers people give it: UK-first, in E.164, and for
texting only a mobile number."""

from __future__ import annotations

import re

import phonenumbers

# Ofcom keeps 07700 900000-900999 for drama: never allocated, so safe in demos and tests,
# but libphonenumber calls them invalid. Accepted only when a setting allows it.
DRAMA_RANGE_PREFIX = "+447700900"
# Digits with the spaces, dashes, dots and brackets people type, after at most one leading +.
WRITTEN_NUMBER = re.compile(r"\+?[\d\s().-]+")
NOT_A_MOBILE = "Enter a UK mobile number, like 07700 900 982: we can only text a mobile."
MALFORMED = "Enter a UK mobile number in the correct format, like 07700 900 982."


class InvalidPhoneNumber(ValueError):
    pass


def _parsed(raw: str) -> phonenumbers.PhoneNumber:
    text = (raw or "").strip()
    # phonenumbers quietly drops a doubled "+" or letters ("0800 FLOWERS"): refuse them.
    if not WRITTEN_NUMBER.fullmatch(text) or sum(c.isdigit() for c in text) < 7:
        raise InvalidPhoneNumber(MALFORMED)
    try:
        return phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(MALFORMED) from None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_drama_number(e164: str) -> bool:
    return e164.startswith(DRAMA_RANGE_PREFIX) and len(e164) == 13


def normalise_phone(raw: str, allow_drama_range: bool = False) -> str:
    """Any valid number in E.164 form (an inbound text's sender), or InvalidPhoneNumber."""
    number = _parsed(raw)
    e164 = _e164(number)
    if allow_drama_range and is_drama_number(e164):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number")
    return e164


def normalise_mobile(raw: str, allow_drama_range: bool = False) -> str:
    """A number panel may text, in E.164 form: a mobile, or InvalidPhoneNumber saying why not.

    Landlines, freephone and other fixed numbers are refused: a text to them never arrives.
    """
    number = _parsed(raw)
    e164 = _e164(number)
    if allow_drama_range and is_drama_number(e164):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(NOT_A_MOBILE)
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise InvalidPhoneNumber(NOT_A_MOBILE)
    return e164


def is_mobile(e164: str, allow_drama_range: bool = False) -> bool:
    try:
        normalise_mobile(e164, allow_drama_range)
    except InvalidPhoneNumber:
        return False
    return True
