"""Every message that crosses a service boundary: its contract, its queue and its job path.

The sender dumps a payload through the contract, the receiver loads it through
the same contract; services never import each other's code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate

PROFILE_DIMENSIONS = ("age_band", "gender", "ethnicity", "disability", "area")
CHANNELS = ("email", "sms")
ROLES = ("admin", "officer", "analyst", "panel_manager")


class ProfileSchema(Schema):
    """The non-identifying demographics of a member; never a name, email or phone."""

    age_band = fields.String(required=True)
    gender = fields.String(required=True)
    ethnicity = fields.String(required=True)
    disability = fields.String(required=True)
    area = fields.String(required=True)


class EnvelopeSchema(Schema):
    message_id = fields.UUID(required=True)
    type = fields.String(required=True)
    sent_at = fields.AwareDateTime(required=True)
    payload = fields.Dict(required=True)


# -- surveys -> panel -------------------------------------------------------


class DrawSampleMessage(Schema):
    survey_id = fields.Integer(required=True)
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sponsors = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    seed = fields.Integer(load_default=None, allow_none=True)


class DeliveryRecipientSchema(Schema):
    member_ref = fields.UUID(required=True)
    delivery_ref = fields.String(required=True, validate=validate.Length(min=1, max=200))
    link = fields.Url(required=True, require_tld=False)


class DeliverMessage(Schema):
    """A batch of messages to send; panel renders them and picks each member's channel."""

    template = fields.String(required=True, validate=validate.OneOf(("invitation", "outcome")))
    context = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    recipients = fields.List(
        fields.Nested(DeliveryRecipientSchema), required=True, validate=validate.Length(min=1)
    )


# -- panel -> surveys -------------------------------------------------------


class SampledMemberSchema(Schema):
    member_ref = fields.UUID(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    profile = fields.Nested(ProfileSchema, required=True)


class SampleDrawnMessage(Schema):
    survey_id = fields.Integer(required=True)
    members = fields.List(fields.Nested(SampledMemberSchema), required=True)
    shortfall = fields.Integer(required=True, validate=validate.Range(min=0))


class DeliveryStatusSchema(Schema):
    delivery_ref = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("sent", "failed")))


class DeliveryReportMessage(Schema):
    deliveries = fields.List(fields.Nested(DeliveryStatusSchema), required=True)


# -- surveys -> feedback ----------------------------------------------------


class DecisionSchema(Schema):
    description = fields.String(required=True)
    owner = fields.String(required=True)
    due = fields.Date(required=True)


class QuestionResultSchema(Schema):
    code = fields.String(required=True)
    text = fields.String(required=True)
    type = fields.String(required=True)
    base = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    mean = fields.Float(load_default=None, allow_none=True)
    comments = fields.Integer(load_default=0)


class SurveyClosedMessage(Schema):
    survey_id = fields.Integer(required=True)
    title = fields.String(required=True)
    purpose = fields.String(required=True)
    scope = fields.String(required=True)
    decision = fields.Nested(DecisionSchema, required=True)
    sponsors = fields.List(fields.String(), required=True)
    closed_at = fields.AwareDateTime(required=True)
    invited = fields.Integer(required=True)
    questions = fields.List(fields.Nested(QuestionResultSchema), required=True)
    respondent_refs = fields.List(fields.UUID(), required=True)


# -- surveys -> panel, feedback: API keys --------------------------------------


class ApiKeyIssuedMessage(Schema):
    key_hash = fields.String(required=True, validate=validate.Length(equal=64))
    key_prefix = fields.String(required=True)
    agency = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    label = fields.String(load_default="")


class ApiKeyRevokedMessage(Schema):
    key_hash = fields.String(required=True, validate=validate.Length(equal=64))


@dataclass(frozen=True)
class MessageType:
    """Where a message type goes and the contract it must satisfy."""

    name: str
    queue: str
    job_path: str
    schema: type[Schema]


def _register(*types: MessageType) -> dict[str, MessageType]:
    return {t.name: t for t in types}


MESSAGE_TYPES: dict[str, MessageType] = _register(
    MessageType("panel.draw_sample", "panel", "services.panel.jobs.draw_sample", DrawSampleMessage),
    MessageType("panel.deliver", "panel", "services.panel.jobs.deliver", DeliverMessage),
    MessageType(
        "panel.api_key_issued", "panel", "services.panel.jobs.api_key_issued", ApiKeyIssuedMessage
    ),
    MessageType(
        "panel.api_key_revoked", "panel", "services.panel.jobs.api_key_revoked",
        ApiKeyRevokedMessage,
    ),
    MessageType(
        "surveys.sample_drawn", "surveys", "services.surveys.jobs.sample_drawn", SampleDrawnMessage
    ),
    MessageType(
        "surveys.delivery_report", "surveys", "services.surveys.jobs.delivery_report",
        DeliveryReportMessage,
    ),
    MessageType(
        "feedback.survey_closed", "feedback", "services.feedback.jobs.survey_closed",
        SurveyClosedMessage,
    ),
    MessageType(
        "feedback.api_key_issued", "feedback", "services.feedback.jobs.api_key_issued",
        ApiKeyIssuedMessage,
    ),
    MessageType(
        "feedback.api_key_revoked", "feedback", "services.feedback.jobs.api_key_revoked",
        ApiKeyRevokedMessage,
    ),
)


class ContractError(ValueError):
    """A message does not satisfy its contract."""

    def __init__(self, message_type: str, errors: dict):
        super().__init__(f"{message_type}: {errors}")
        self.errors = errors


def message_type(name: str) -> MessageType:
    try:
        return MESSAGE_TYPES[name]
    except KeyError:
        raise ContractError(name, {"type": ["unknown message type"]}) from None


def build_message(name: str, payload: dict) -> dict:
    """An envelope ready for JSON: the payload dumped through its contract and checked."""
    schema = message_type(name).schema()
    dumped = schema.dump(payload)
    errors = schema.validate(dumped)
    if errors:
        raise ContractError(name, errors)
    return {
        "message_id": str(uuid.uuid4()),
        "type": name,
        "sent_at": datetime.now(UTC).isoformat(),
        "payload": dumped,
    }


def read_message(name: str, envelope: dict) -> dict:
    """Load a received envelope through the contract of the type the handler expects."""
    try:
        loaded = EnvelopeSchema().load(envelope)
    except ValidationError as exc:
        raise ContractError(name, exc.messages) from None
    if loaded["type"] != name:
        raise ContractError(name, {"type": [f"expected {name}, got {loaded['type']}"]})
    try:
        loaded["payload"] = message_type(name).schema().load(loaded["payload"])
    except ValidationError as exc:
        raise ContractError(name, exc.messages) from None
    return loaded
