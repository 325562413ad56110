"""Marshmallow fields and validators whose OpenAPI description is true: what they accept is
what the document says, and no more than the database can hold."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields, validate

from shared.input_guard import DB_INTEGER_MAX, DB_INTEGER_MIN

# An INTEGER column's range; apispec documents it as the field's minimum and maximum.
DB_INTEGER = validate.Range(min=DB_INTEGER_MIN, max=DB_INTEGER_MAX)
# Ids are positive INTEGERs.
DB_ID = validate.Range(min=1, max=DB_INTEGER_MAX)


def money(minimum: str, maximum: str, whole_digits: int, **kwargs) -> fields.Decimal:
    """A decimal with two places, exchanged as a string ("12.50") and documented as one, with
    a pattern: a Range on an as_string Decimal is documented as a number with string bounds,
    which no generator or client can satisfy. The bounds are checked all the same."""
    low, high = Decimal(minimum), Decimal(maximum)

    def within(value: Decimal) -> None:
        if not low <= value <= high:
            raise ValidationError(f"Must be from {minimum} to {maximum}.")

    return fields.Decimal(
        places=2, as_string=True, validate=within,
        metadata={"type": "string", "pattern": rf"^\d{{1,{whole_digits}}}(\.\d{{1,2}})?$",
                  "example": maximum},
        **kwargs)

