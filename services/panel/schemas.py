"""Marshmallow schemas of the panel API."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.panel.contacts import InvalidPhoneNumber, normalise_phone
from shared.profile import AGE_BANDS, DISABILITY, ETHNICITIES, GENDERS


class ProfileInputSchema(Schema):
    age_band = fields.String(required=True, validate=validate.OneOf(AGE_BANDS))
    gender = fields.String(required=True, validate=validate.OneOf(GENDERS))
    ethnicity = fields.String(required=True, validate=validate.OneOf(ETHNICITIES))
    disability = fields.String(required=True, validate=validate.OneOf(DISABILITY))
    area = fields.String(required=True, validate=validate.Regexp(r"^[EW]05\d{6}$",
                         error="Give the area as a ward code, like E05000001."))


class ConsentSchema(Schema):
    surveys = fields.Boolean(required=True)
    outcomes = fields.Boolean(required=True)


class MemberCreateSchema(Schema):
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    preferred_channel = fields.String(required=True, validate=validate.OneOf(("email", "sms")))
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=10))
    profile = fields.Nested(ProfileInputSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True)

    @validates("phone")
    def _phone(self, value, **_kwargs):
        if value is not None:
            try:
                normalise_phone(value, current_app.config["ALLOW_DRAMA_NUMBERS"])
            except InvalidPhoneNumber as exc:
                raise ValidationError(str(exc)) from None

    @validates_schema
    def _reachable(self, data, **_kwargs):
        channel = data.get("preferred_channel")
        if channel == "email" and not data.get("email"):
            raise ValidationError("An email address is needed to contact by email.", "email")
        if channel == "sms" and not data.get("phone"):
            raise ValidationError("A mobile number is needed to contact by SMS.", "phone")


class MemberSchema(Schema):
    member_ref = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_channel = fields.String()
    language = fields.String()
    profile = fields.Method("_profile")
    consent = fields.Method("_consent")
    joined_at = fields.DateTime()

    def _profile(self, member):
        return member.profile()

    def _consent(self, member):
        return {"surveys": member.consent_surveys, "outcomes": member.consent_outcomes}


class DeliverySchema(Schema):
    delivery_ref = fields.String()
    member_ref = fields.String()
    template = fields.String()
    channel = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
