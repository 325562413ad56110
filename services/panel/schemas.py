"""Marshmallow schemas of panel: its JSON API, its CSV import rows and its join page."""

from __future__ import annotations

from functools import partial

from flask import current_app
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from services.panel.campaign_links import join_url, sms_keyword
from services.panel.contacts import InvalidPhoneNumber, normalise_mobile
from shared.api_fields import money
from shared.profile import (
    AREA_CODE_ERROR,
    CATEGORIES,
    DEPRIVATION_DECILES,
    LANGUAGES,
    PROFILE_DIMENSIONS,
    REQUIRED_DIMENSIONS,
    extra_problems,
    formula_problem,
    is_area_code,
)
from shared.statuses import DeliveryStatus

CHANNELS = ("email", "sms")
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com."
# What the join page says when a question is left unanswered or answered with nonsense.
JOIN_PAGE_ERRORS = {
    "preferred_channel": "Select how you want us to contact you.",
    "language": "Select the language you want us to write to you in.",
    "age_band": "Select your age group.",
    "gender": "Select your gender.",
    "ethnicity": "Select your ethnic group.",
    "disability": "Select whether you are disabled.",
    "area": "Select your ward.",
    "tenure": "Select whether you own or rent your home.",
    "deprivation_decile": "Give the deprivation decile as a number from 1 to 10.",
}


def _area_code(value: str, error: str = AREA_CODE_ERROR) -> None:
    if not is_area_code(value):
        raise ValidationError(error)


def _not_formula(value: str) -> None:
    if (problem := formula_problem(value)) is not None:
        raise ValidationError(problem)


def _mobile(value: str | None) -> None:
    if value is not None:
        try:
            normalise_mobile(value, current_app.config["ALLOW_DRAMA_NUMBERS"])
        except InvalidPhoneNumber as exc:
            raise ValidationError(str(exc)) from None


class DeclaredExtras(Schema):
    """An `extra` field holding the partnership's declared attributes (PROFILE_EXTRA_ATTRIBUTES),
    e.g. {"carer": "yes"}: an undeclared name, a value not allowed, or anything like contact
    data is refused, named by the attribute."""

    extra = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                        values=fields.String(validate=validate.Length(max=100)),
                        load_default=dict)

    @validates_schema(skip_on_field_errors=False)
    def _declared_extras(self, data, **_kwargs):
        problems = extra_problems(data.get("extra") or {},
                                  current_app.config["PROFILE_EXTRA_ATTRIBUTES"])
        if problems:
            raise ValidationError({"extra": {name: [why] for name, why in problems.items()}})


def profile_fields(errors: dict[str, str] | None = None) -> dict[str, fields.Field]:
    """A field per profile dimension, from the shared vocabulary: the API, the CSV import and
    the join page build their schemas from this, so they accept exactly the same values.
    `errors` replaces the default wording, field by field (the join page's own words)."""
    errors = errors or {}
    built: dict[str, fields.Field] = {}
    for name in PROFILE_DIMENSIONS:
        if name not in REQUIRED_DIMENSIONS:
            options: dict = {"load_default": None, "allow_none": True}
        elif name in errors:
            options = {"required": True, "error_messages": {"required": errors[name]}}
        else:
            options = {"required": True}
        if name == "area":
            built[name] = fields.String(validate=partial(
                _area_code, error=errors.get(name, AREA_CODE_ERROR)), **options)
        elif name == "deprivation_decile":
            deciles = [int(d) for d in DEPRIVATION_DECILES]
            built[name] = fields.Integer(validate=validate.OneOf(deciles, error=errors.get(
                name, f"Must be a whole number from {deciles[0]} to {deciles[-1]}.")), **options)
        else:
            wording = {"error": errors[name]} if name in errors else {}
            built[name] = fields.String(validate=validate.OneOf(CATEGORIES[name], **wording),
                                        **options)
    return built


def language_field(error: str | None = None) -> fields.Field:
    return fields.String(load_default="en", validate=validate.OneOf(
        LANGUAGES, **({"error": error} if error else {})))


class ProfileInputSchema(DeclaredExtras, Schema.from_dict(profile_fields())):  # type: ignore[misc]
    """A member's profile through the API: the shared dimensions and the declared extras."""


class ConsentSchema(Schema):
    surveys = fields.Boolean(required=True)
    outcomes = fields.Boolean(required=True)
    recontact = fields.Boolean(load_default=False)


def _reachable(data: dict) -> None:
    channel = data.get("preferred_channel")
    if channel == "email" and not data.get("email"):
        raise ValidationError("An email address is needed to contact by email.", "email")
    if channel == "sms" and not data.get("phone"):
        raise ValidationError("A mobile number is needed to contact by SMS.", "phone")


class MemberCreateSchema(Schema):
    external_id = fields.String(load_default=None, allow_none=True,
                                validate=[validate.Length(min=1, max=100), _not_formula])
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=_mobile)
    preferred_channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    language = language_field()
    profile = fields.Nested(ProfileInputSchema, required=True)
    consent = fields.Nested(ConsentSchema, required=True)

    @validates_schema
    def _reachable(self, data, **_kwargs):
        _reachable(data)


EXTRA_PREFIX = "extra_"


class ImportRowSchema(DeclaredExtras, Schema.from_dict(profile_fields())):  # type: ignore[misc]
    """One row of a bulk CSV import: flat columns, the profile's among them, and an
    `extra_<name>` column per declared extra attribute (docs/panel-imports.md)."""

    class Meta:
        unknown = EXCLUDE

    external_id = fields.String(required=True,
                                validate=[validate.Length(min=1, max=100), _not_formula])
    email = fields.Email(load_default=None, allow_none=True, validate=_not_formula)
    phone = fields.String(load_default=None, allow_none=True, validate=_mobile)
    preferred_channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    language = language_field()
    consent_surveys = fields.Boolean(required=True)
    consent_outcomes = fields.Boolean(required=True)

    @pre_load
    def _cells(self, data, **_kwargs):
        """Blank cells are missing; `extra_<name>` columns become the profile's extras.

        A cell's first character is kept for the formula check: a spreadsheet runs a cell
        starting with a tab or return as a formula as surely as one starting with "=".
        """
        def kept(value: str) -> str:
            stripped = value.strip(" ")
            return stripped if stripped.startswith(("\t", "\r")) else value.strip()

        cells = {k: kept(v) for k, v in data.items()
                 if k is not None and isinstance(v, str) and v.strip() != ""}
        extra = {k[len(EXTRA_PREFIX):]: v for k, v in cells.items() if k.startswith(EXTRA_PREFIX)}
        return {**{k: v for k, v in cells.items() if not k.startswith(EXTRA_PREFIX)},
                "extra": extra}

    @validates_schema
    def _reachable(self, data, **_kwargs):
        _reachable(data)


class JoinFormSchema(Schema.from_dict(profile_fields(JOIN_PAGE_ERRORS))):  # type: ignore[misc]
    """The join page's answers: every error names its field and says how to fix it."""

    email = fields.String(load_default="")
    phone = fields.String(load_default="")
    preferred_channel = fields.String(required=True, validate=validate.OneOf(
        CHANNELS, error=JOIN_PAGE_ERRORS["preferred_channel"]),
        error_messages={"required": JOIN_PAGE_ERRORS["preferred_channel"]})
    language = language_field(JOIN_PAGE_ERRORS["language"])
    consent_surveys = fields.String(required=True, error_messages={
        "required": "Tick the box to agree to be invited to surveys."})
    consent_outcomes = fields.String(load_default=None)
    campaign = fields.String(load_default=None)

    @pre_load
    def _blanks_are_missing(self, data, **_kwargs):
        # An unanswered optional question arrives as "" from a form.
        return {k: v for k, v in data.items() if v != "" or k in ("email", "phone")}

    @validates_schema(skip_on_field_errors=False)
    def _contact(self, data, **_kwargs):
        channel = data.get("preferred_channel")
        if channel == "email":
            try:
                validate.Email()(data.get("email") or "")
            except ValidationError:
                raise ValidationError(EMAIL_FORMAT, "email") from None
        if channel == "sms":
            try:
                normalise_mobile(data.get("phone") or "",
                                 current_app.config["ALLOW_DRAMA_NUMBERS"])
            except InvalidPhoneNumber as exc:
                raise ValidationError(str(exc), "phone") from None


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


DELIVERY_STATUSES = tuple(status.value for status in DeliveryStatus)


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


def csv_upload_body(columns: str) -> dict:
    """The OpenAPI request body of a CSV upload: the API reads a multipart `file` field or a
    text/csv body, so no schema parses it; `columns` says what the file holds."""
    return {
        "required": True,
        "description": columns,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary",
                                        "description": "The CSV file, UTF-8"}}}},
            "text/csv": {"schema": {"type": "string", "description": "The CSV itself, UTF-8"}},
        },
    }


def import_columns() -> str:
    """The bulk import's columns, from ImportRowSchema itself (docs/panel-imports.md)."""
    names = [f"{name} (required)" if field.required else name
             for name, field in ImportRowSchema().fields.items() if name != "extra"]
    return ("A CSV with a header row. Columns: " + ", ".join(names)
            + f", and {EXTRA_PREFIX}<name> for each attribute in PROFILE_EXTRA_ATTRIBUTES. "
              "Profile values are those of the members API; see docs/panel-imports.md.")


class CampaignCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^[A-Z0-9]{3,12}$", error="Use 3 to 12 capital letters or digits."))
    target_group = fields.Dict(keys=fields.String(validate=validate.OneOf(PROFILE_DIMENSIONS)),
                               values=fields.List(fields.String(), validate=validate.Length(min=1)),
                               load_default=dict)
    cost = money("0", "9999999999.99", whole_digits=10, load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _groups_exist(self, data, **_kwargs):
        """A group of people who can be: a ward by its code, any other dimension one of its
        categories; a group no member could ever be in would never recruit anyone."""
        problems = {}
        for dimension, values in (data.get("target_group") or {}).items():
            if dimension == "area":
                wrong = [v for v in values if not is_area_code(v)]
                reason = AREA_CODE_ERROR
            else:
                wrong = [v for v in values if v not in CATEGORIES.get(dimension, ())]
                reason = "Must be one of: " + ", ".join(CATEGORIES.get(dimension, ())) + "."
            if wrong:
                problems[dimension] = [reason]
        if problems:
            raise ValidationError({"target_group": problems})


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
        return join_url(current_app.config["PANEL_URL"], campaign.code)

    def _keyword(self, campaign):
        return sms_keyword(campaign.code)


class RepresentativenessQuerySchema(Schema):
    area = fields.String(load_default=None, allow_none=True, validate=_area_code)
    dimension = fields.String(load_default=None, allow_none=True,
                              validate=validate.OneOf(PROFILE_DIMENSIONS))
    threshold = fields.Float(load_default=None, allow_none=True,
                             validate=validate.Range(min=0, max=1, min_inclusive=False))


class RespondentsSchema(Schema):
    member_refs = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))
