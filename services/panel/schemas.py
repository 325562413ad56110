"""Marshmallow schemas of the panel API."""

from __future__ import annotations

from flask import current_app
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from services.panel.contacts import InvalidPhoneNumber, normalise_phone
from shared.api_fields import money
from shared.messages import PROFILE_DIMENSIONS
from shared.profile import AGE_BANDS, DISABILITY, ETHNICITIES, GENDERS

TENURES = ("owned", "social_rented", "private_rented")
LANGUAGES = ("en", "cy")
WARD_CODE = validate.Regexp(r"^[EW]05\d{6}$", error="Give the area as a ward code, like E05000001.")


def _check_phone(value):
    if value is not None:
        try:
            normalise_phone(value, current_app.config["ALLOW_DRAMA_NUMBERS"])
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from None


class ProfileInputSchema(Schema):
    age_band = fields.String(required=True, validate=validate.OneOf(AGE_BANDS))
    gender = fields.String(required=True, validate=validate.OneOf(GENDERS))
    ethnicity = fields.String(required=True, validate=validate.OneOf(ETHNICITIES))
    disability = fields.String(required=True, validate=validate.OneOf(DISABILITY))
    area = fields.String(required=True, validate=WARD_CODE)
    deprivation_decile = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=10))
    tenure = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TENURES))
    # Partnership-defined attributes, e.g. {"carer": "yes"}: never names or contact details.
    extra = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                        values=fields.String(validate=validate.Length(max=100)),
                        load_default=dict)


class ConsentSchema(Schema):
    surveys = fields.Boolean(required=True)
    outcomes = fields.Boolean(required=True)
    recontact = fields.Boolean(load_default=False)


class MemberCreateSchema(Schema):
    external_id = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(min=1, max=100))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    preferred_channel = fields.String(required=True, validate=validate.OneOf(("email", "sms")))
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=10))
    profile = fields.Nested(ProfileInputSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True)

    @validates("phone")
    def _phone(self, value, **_kwargs):
        _check_phone(value)

    @validates_schema
    def _reachable(self, data, **_kwargs):
        channel = data.get("preferred_channel")
        if channel == "email" and not data.get("email"):
            raise ValidationError("An email address is needed to contact by email.", "email")
        if channel == "sms" and not data.get("phone"):
            raise ValidationError("A mobile number is needed to contact by SMS.", "phone")


class ImportRowSchema(Schema):
    """One row of a bulk CSV import (flat columns; `extra_<name>` columns become extras)."""

    class Meta:
        unknown = EXCLUDE

    external_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    preferred_channel = fields.String(required=True, validate=validate.OneOf(("email", "sms")))
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    age_band = fields.String(required=True, validate=validate.OneOf(AGE_BANDS))
    gender = fields.String(required=True, validate=validate.OneOf(GENDERS))
    ethnicity = fields.String(required=True, validate=validate.OneOf(ETHNICITIES))
    disability = fields.String(required=True, validate=validate.OneOf(DISABILITY))
    area = fields.String(required=True, validate=WARD_CODE)
    deprivation_decile = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=10))
    tenure = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TENURES))
    consent_surveys = fields.Boolean(required=True)
    consent_outcomes = fields.Boolean(required=True)

    @pre_load
    def _blanks_are_missing(self, data, **_kwargs):
        return {k: v.strip() for k, v in data.items()
                if k is not None and isinstance(v, str) and v.strip() != ""}

    @validates("phone")
    def _phone(self, value, **_kwargs):
        _check_phone(value)

    @validates_schema
    def _reachable(self, data, **_kwargs):
        MemberCreateSchema._reachable(self, data)


class MemberSchema(Schema):
    member_ref = fields.String()
    external_id = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    preferred_channel = fields.String()
    language = fields.String()
    status = fields.String()
    profile = fields.Method("_profile")
    consent = fields.Method("_consent")
    opted_out_at = fields.DateTime(allow_none=True)
    last_contacted_at = fields.DateTime(allow_none=True)
    joined_at = fields.DateTime()

    def _profile(self, member):
        return member.profile()

    def _consent(self, member):
        return {"surveys": member.consent_surveys, "outcomes": member.consent_outcomes,
                "recontact": member.consent_recontact}


class AgencyOptOutSchema(Schema):
    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ConsentChangeSchema(Schema):
    surveys = fields.Boolean()
    outcomes = fields.Boolean()
    recontact = fields.Boolean()
    source = fields.String(load_default="api", validate=validate.Length(max=40))


DELIVERY_STATUSES = ("pending", "sending", "sent", "delivered", "undelivered", "failed",
                     "canceled", "no_consent", "opted_out", "unconfirmed")


class DeliverySchema(Schema):
    delivery_ref = fields.String()
    member_ref = fields.String()
    template = fields.String()
    channel = fields.String()
    status = fields.String()
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = fields.DateTime()
    claimed_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


class DeliveryQuerySchema(Schema):
    """Narrow the delivery log, e.g. to the "unconfirmed" ones a stopped worker left."""

    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class ImportErrorSchema(Schema):
    line = fields.Integer()
    field = fields.String()
    reason = fields.String()


class MemberImportSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    status = fields.String()
    total_rows = fields.Integer()
    processed_rows = fields.Integer()
    added = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(ImportErrorSchema))
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class CsvUploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class CampaignCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z0-9]{3,12}$", error="Use 3 to 12 capital letters or digits."))
    target_group = fields.Dict(keys=fields.String(validate=validate.OneOf(PROFILE_DIMENSIONS)),
                               values=fields.List(fields.String(), validate=validate.Length(min=1)),
                               load_default=dict)
    cost = money("0", "9999999999.99", whole_digits=10, load_default=None, allow_none=True)


class CampaignSchema(Schema):
    id = fields.Integer()
    agency = fields.String()
    name = fields.String()
    code = fields.String()
    target_group = fields.Dict()
    cost = money("0", "9999999999.99", whole_digits=10, allow_none=True)
    join_url = fields.Method("_join_url")
    sms_keyword = fields.Method("_keyword")
    created_at = fields.DateTime()

    def _join_url(self, campaign):
        return f"{current_app.config['PANEL_URL'].rstrip('/')}/join?c={campaign.code}"

    def _keyword(self, campaign):
        return f"JOIN {campaign.code}"


class RepresentativenessQuerySchema(Schema):
    area = fields.String(load_default=None, allow_none=True, validate=WARD_CODE)
    dimension = fields.String(load_default=None, allow_none=True,
                              validate=validate.OneOf(PROFILE_DIMENSIONS))
    threshold = fields.Float(load_default=None, allow_none=True,
                             validate=validate.Range(min=0, max=1, min_inclusive=False))


class RespondentsSchema(Schema):
    member_refs = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))
