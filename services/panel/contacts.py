"""Normalising the contact details members give us: UK-first phone numbers in E.164."""

from __future__ import annotations

import phonenumbers

# Ofcom keeps 07700 900000-900999 for drama: never allocated, so safe in demos and tests,
# but libphonenumber calls them invalid. Accepted only when a setting allows it.
DRAMA_RANGE_PREFIX = "+447700900"


class InvalidPhoneNumber(ValueError):
    pass


def normalise_phone(raw: str, allow_drama_range: bool = False) -> str:
    """The number in E.164 form, or InvalidPhoneNumber saying why not."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if allow_drama_range and e164.startswith(DRAMA_RANGE_PREFIX) and len(e164) == 13:
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number")
    return e164
