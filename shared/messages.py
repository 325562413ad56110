"""Every message that crosses a service boundary: its contract, its queue and its job path.

The sender dumps a payload through the contract, the receiver loads it through
the same contract; services never import each other's code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import bulk_contracts

# The profile's dimensions are the shared vocabulary's (shared/profile.py), named here too
# because the contracts' users have always imported them from here.
from shared.profile import PROFILE_DIMENSIONS  # noqa: F401

CHANNELS = ("email", "sms")
ROLES = ("admin", "officer", "analyst", "panel_manager", "decision_owner")
DELIVERY_TEMPLATES = ("invitation", "reminder", "outcome", "progress", "dialogue")


class ProfileSchema(Schema):
    """The non-identifying demographics of a member; never a name, email or phone."""

    age_band = fields.String(required=True)
    gender = fields.String(required=True)
    ethnicity = fields.String(required=True)
    disability = fields.String(required=True)
    area = fields.String(required=True)
    deprivation_decile = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=10))
    tenure = fields.String(load_default=None, allow_none=True)
    # The partnership's declared attributes (PROFILE_EXTRA_ATTRIBUTES), e.g. {"carer": "yes"}:
    # panel refuses undeclared names and anything like contact data before they are stored.
    extra = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class QuotaCellSchema(Schema):
    """A target count for one cell of profile dimensions, e.g. {"age_band": "16-24", "area": X}."""

    cell = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    target = fields.Integer(required=True, validate=validate.Range(min=0))


class CellOutcomeSchema(Schema):
    cell = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    target = fields.Integer(required=True)
    drawn = fields.Integer(required=True)
    shortfall = fields.Integer(required=True)
    reason = fields.String(load_default=None, allow_none=True)


class EnvelopeSchema(Schema):
    message_id = fields.UUID(required=True)
    type = fields.String(required=True)
    sent_at = fields.AwareDateTime(required=True)
    payload = fields.Dict(required=True)


# -- surveys -> panel -------------------------------------------------------


class DrawSampleMessage(Schema):
    """Ask panel for a sample: honouring consent, opt-outs, the contact cap and the quotas."""

    survey_id = fields.Integer(required=True)
    draw_id = fields.String(load_default=None, allow_none=True)  # e.g. "launch", "topup:3"
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sponsors = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    seed = fields.Integer(load_default=None, allow_none=True)
    # Explicit cell targets, or proportional to population over these dimensions.
    quotas = fields.List(fields.Nested(QuotaCellSchema), load_default=list)
    proportional_dimensions = fields.List(fields.String(), load_default=list)
    # Eligibility: only members whose profile value is in the list, per dimension.
    filters = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()),
                          load_default=dict)
    exclude_member_refs = fields.List(fields.UUID(), load_default=list)
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)),
                           load_default=lambda: list(CHANNELS))
    # Over-sample cells with low past response rates so completes, not invites, meet quotas.
    boost_low_response = fields.Boolean(load_default=False)


class CountEligibleMessage(Schema):
    """Ask panel, before a launch, how many members each quota cell could be drawn from: the
    draw's own request (sponsors, quotas, filters, channels), counted and never reserved.
    `request_id` is surveys' name for the question; the answer carries it back."""

    survey_id = fields.Integer(required=True)
    request_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sponsors = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    quotas = fields.List(fields.Nested(QuotaCellSchema), load_default=list)
    filters = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()),
                          load_default=dict)
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)),
                           load_default=lambda: list(CHANNELS))


class DeliveryRecipientSchema(Schema):
    member_ref = fields.UUID(required=True)
    delivery_ref = fields.String(required=True, validate=validate.Length(min=1, max=200))
    link = fields.Url(load_default=None, allow_none=True, require_tld=False)
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1600))
    channel = fields.String(load_default=None, allow_none=True,
                            validate=validate.OneOf(CHANNELS))  # None: member's preference


class DeliverMessage(Schema):
    """A batch of messages to send; panel renders them and picks each member's channel.

    Only "invitation" counts towards the contact cap. "dialogue" is one SMS of an SMS
    survey dialogue: its text is in the recipient's `text`, already in their language.
    """

    template = fields.String(required=True, validate=validate.OneOf(DELIVERY_TEMPLATES))
    # A key ending in a language's code ("survey_title_cy") gives that language's members its
    # plain key's words instead.
    context = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    recipients = fields.List(
        fields.Nested(DeliveryRecipientSchema), required=True, validate=validate.Length(min=1)
    )


class ContactsUnusedMessage(Schema):
    """Sampled members surveys did not invite (the survey had closed, their quota cell was
    full, they were invited already): panel gives back the contact-cap slots the draw took."""

    survey_id = fields.Integer(required=True)
    draw_id = fields.String(load_default=None, allow_none=True)
    member_refs = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))


# -- panel -> surveys -------------------------------------------------------


class SampledMemberSchema(Schema):
    member_ref = fields.UUID(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    language = fields.String(load_default="en")
    profile = fields.Nested(ProfileSchema, required=True)


class SampleDrawnMessage(Schema):
    """One batch of a drawn sample; `cells` reports each quota cell's fill and shortfall."""

    survey_id = fields.Integer(required=True)
    draw_id = fields.String(load_default=None, allow_none=True)
    members = fields.List(fields.Nested(SampledMemberSchema), required=True)
    shortfall = fields.Integer(required=True, validate=validate.Range(min=0))
    cells = fields.List(fields.Nested(CellOutcomeSchema), load_default=list)


class DeliveryStatusSchema(Schema):
    delivery_ref = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ("sent", "delivered", "failed", "undelivered", "no_consent", "opted_out",
         "unconfirmed")))


class SmsReplySchema(Schema):
    """An inbound SMS that is not a keyword panel handles, from a known member."""

    member_ref = fields.UUID(required=True)
    body = fields.String(required=True, validate=validate.Length(max=1600))
    received_at = fields.AwareDateTime(required=True)
    provider_id = fields.String(load_default=None, allow_none=True)


class MemberErasedMessage(Schema):
    member_ref = fields.UUID(required=True)


class PopulationTargetsMessage(Schema):
    """Census margins per area, for weighting: {area: {dimension: {category: count}}}, and
    the names of the areas the file named (absent from older messages)."""

    vintage = fields.String(required=True)
    areas = fields.Dict(keys=fields.String(),
                        values=fields.Dict(keys=fields.String(),
                                           values=fields.Dict(keys=fields.String(),
                                                              values=fields.Float())),
                        required=True)
    area_names = fields.Dict(keys=fields.String(),
                             values=fields.String(validate=validate.Length(min=1, max=100)),
                             load_default=dict)


class AreaCapCountSchema(Schema):
    """One area's members who may be invited at all (active, consenting, not opted out), how
    many of them rest under the contact cap, and when the first and the last are free again."""

    area = fields.String(required=True)
    members = fields.Integer(required=True, validate=validate.Range(min=0))
    at_cap = fields.Integer(required=True, validate=validate.Range(min=0))
    next_free_at = fields.AwareDateTime(load_default=None, allow_none=True)
    all_free_at = fields.AwareDateTime(load_default=None, allow_none=True)


class ContactCapCountsMessage(Schema):
    """Panel's periodic count of the panel's rest under the contact cap, per area: every area
    with a member who may be invited, as it was at `measured_at` (counts, never members)."""

    measured_at = fields.AwareDateTime(required=True)
    areas = fields.List(fields.Nested(AreaCapCountSchema), required=True)


class EligibleCellSchema(Schema):
    """One quota cell before launch: its active members in the survey's areas, and of them
    how many could be drawn now and what stops the others (each member counted once, under
    the first reason that applies, in this order)."""

    cell = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    target = fields.Integer(required=True, validate=validate.Range(min=0))
    members = fields.Integer(required=True, validate=validate.Range(min=0))
    no_consent = fields.Integer(required=True, validate=validate.Range(min=0))
    opted_out = fields.Integer(required=True, validate=validate.Range(min=0))  # panel or sponsor
    other_channel = fields.Integer(required=True, validate=validate.Range(min=0))
    at_cap = fields.Integer(required=True, validate=validate.Range(min=0))
    eligible = fields.Integer(required=True, validate=validate.Range(min=0))
    shortfall = fields.Integer(required=True, validate=validate.Range(min=0))


class EligibleCountsMessage(Schema):
    """Panel's answer to panel.count_eligible: per quota cell, counts as at `measured_at`
    (counts, never members)."""

    survey_id = fields.Integer(required=True)
    request_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    measured_at = fields.AwareDateTime(required=True)
    cells = fields.List(fields.Nested(EligibleCellSchema), required=True)


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
    # Weighted to the population when the survey could be weighted.
    weighted_percent = fields.Dict(keys=fields.String(), values=fields.Float(),
                                   load_default=None, allow_none=True)
    weighted_mean = fields.Float(load_default=None, allow_none=True)


class WeightingFailureSchema(Schema):
    """The margin a raking that did not converge fails worst, and whether nobody is in it."""

    dimension = fields.String(required=True)
    category = fields.String(required=True)
    nobody_answered = fields.Boolean(required=True)


class WeightingSummarySchema(Schema):
    dimensions = fields.List(fields.String(), required=True)
    converged = fields.Boolean(required=True)
    effective_sample_size = fields.Float(required=True)
    design_effect = fields.Float(required=True)
    failing = fields.Nested(WeightingFailureSchema, load_default=None, allow_none=True)


class RepresentationSchema(Schema):
    """How one group is represented among respondents compared with the population."""

    dimension = fields.String(required=True)
    category = fields.String(required=True)
    population_share = fields.Float(required=True)
    respondent_share = fields.Float(required=True)
    ratio = fields.Float(required=True)


class ThemeSchema(Schema):
    """A theme of a free-text question's answers for the "you said": what it is called, how
    many said it and their share (None when the disclosure rule hides the count), and up to
    three quotes (none for a hidden count). A quote is the answer's words alone: no profile,
    no respondent, contact details already removed."""

    question_code = fields.String(required=True)
    question_text = fields.String(required=True)
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    count = fields.Integer(required=True, allow_none=True)
    # Hidden because it is small itself (reads "fewer than 10"), not only to protect another.
    small = fields.Boolean(load_default=False)
    share = fields.Float(required=True, allow_none=True)
    weighted = fields.Boolean(load_default=False)
    quotes = fields.List(fields.String(), load_default=list, validate=validate.Length(max=3))


class SurveyClosedMessage(Schema):
    survey_id = fields.Integer(required=True)
    title = fields.String(required=True)
    # The title in the survey's other languages ({"cy": "…"}), for messages to their speakers.
    title_translations = fields.Dict(keys=fields.String(validate=validate.Length(max=10)),
                                     values=fields.String(validate=validate.Length(max=200)),
                                     load_default=dict)
    purpose = fields.String(required=True)
    scope = fields.String(required=True)
    decision = fields.Nested(DecisionSchema, required=True)
    sponsors = fields.List(fields.String(), required=True)
    # Each sponsor's name, for pages that say who is responsible (names, never codes).
    sponsor_names = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    closed_at = fields.AwareDateTime(required=True)
    invited = fields.Integer(required=True)
    questions = fields.List(fields.Nested(QuestionResultSchema), required=True)
    respondent_refs = fields.List(fields.UUID(), required=True)
    # How many respondents were invited by each channel ({"email": 40, "sms": 12}): how most
    # of them will be told the outcome.
    respondent_channels = fields.Dict(keys=fields.String(validate=validate.OneOf(CHANNELS)),
                                      values=fields.Integer(validate=validate.Range(min=0)),
                                      load_default=dict)
    areas = fields.List(fields.String(), load_default=list)
    topics = fields.List(fields.String(), load_default=list)
    weighting = fields.Nested(WeightingSummarySchema, load_default=None, allow_none=True)
    representation = fields.List(fields.Nested(RepresentationSchema), load_default=list)
    # The free-text questions' themes as they stood at close (optional: older messages load).
    themes = fields.List(fields.Nested(ThemeSchema), load_default=list)


class SurveyThemesMessage(Schema):
    """A closed survey's themes again, after a run or an analyst's edit: the draft's "you
    said" follows them until the report is published."""

    survey_id = fields.Integer(required=True)
    themes = fields.List(fields.Nested(ThemeSchema), required=True)


class SurveyRespondentsMessage(Schema):
    """Who answered a survey that closed, for panel's pages of how well its respondents
    represent the place: refs only, the survey named by its title and its sponsors."""

    survey_id = fields.Integer(required=True)
    title = fields.String(required=True)
    sponsors = fields.List(fields.String(), required=True)
    sponsor_names = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    closed_at = fields.AwareDateTime(required=True)
    respondent_refs = fields.List(fields.UUID(), required=True)


class AgencyNamedMessage(Schema):
    """A partner agency surveys added, by its code and the name people read: panel names it
    on its pages (an opt-out, a form) before any of its surveys has closed."""

    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


# -- panel, feedback -> surveys: the audit log -------------------------------


class StaffActionMessage(Schema):
    """A staff action done in panel or feedback (an erasure, a publication), for the one audit
    log surveys keeps: who (agency, role, email or API key prefix), what, where and when."""

    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=validate.Length(min=1, max=32))
    actor = fields.String(required=True, validate=validate.Length(min=1, max=320))
    key_prefix = fields.String(load_default="", validate=validate.Length(max=16))
    service = fields.String(required=True, validate=validate.OneOf(("panel", "feedback")))
    action = fields.String(required=True, validate=validate.Length(min=1, max=40))
    survey_ids = fields.List(fields.Integer(), load_default=list)
    detail = fields.Dict(keys=fields.String(), load_default=dict)
    at = fields.AwareDateTime(required=True)


# -- feedback -> feedback ----------------------------------------------------


class ReportPublishedMessage(Schema):
    """A report was published: its worker tells the respondents, off the request's back."""

    report_id = fields.Integer(required=True)


# -- surveys -> panel, feedback: API keys --------------------------------------


class ApiKeyIssuedMessage(Schema):
    key_hash = fields.String(required=True, validate=validate.Length(equal=64))
    key_prefix = fields.String(required=True)
    agency = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    label = fields.String(load_default="")


class StaffEmailMessage(Schema):
    """An email to a member of staff (a sign-in link, a test of a survey): sent by panel, which
    sends every email, but to no panel member.

    Either its `subject` and `body`, or a member's message `template` (as in panel.deliver)
    with its `context` and `link`: panel renders that exactly as a member would get it, marked
    as a test, so an officer reads the survey's own invitation before launching it.
    """

    to = fields.Email(required=True)
    subject = fields.String(load_default="", validate=validate.Length(max=200))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    template = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(("invitation", "reminder")))
    context = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    link = fields.Url(load_default=None, allow_none=True, require_tld=False)

    @validates_schema
    def _either(self, data, **_kwargs):
        if not data.get("template") and not (data.get("subject") and data.get("body")):
            raise ValidationError("Give a subject and a body, or a template.", "body")


class ApiKeyRevokedMessage(Schema):
    key_hash = fields.String(required=True, validate=validate.Length(equal=64))


# -- panel -> panel (work a request hands to panel's own worker) -------------


class ImportMembersMessage(Schema):
    import_id = fields.Integer(required=True)


class ConfirmJoinMessage(Schema):
    """Send a new sign-up the link (email) or the YES prompt (SMS) of the double opt-in; or,
    `already_joined`, tell a member by the `channel` someone used that they tried to join."""

    member_ref = fields.UUID(required=True)
    already_joined = fields.Boolean(load_default=False)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))


# -- surveys -> surveys (work a request hands to its own worker) ---------------


class FindThemesMessage(Schema):
    """Find the themes of a free-text question in the background; the run row holds it."""

    run_id = fields.Integer(required=True)


class ExportDatasetMessage(Schema):
    """Build a respondent-level export in the background; the export row holds the request."""

    export_id = fields.Integer(required=True)


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
    MessageType(
        "panel.count_eligible", "panel", "services.panel.jobs.count_eligible",
        CountEligibleMessage,
    ),
    MessageType("panel.deliver", "panel", "services.panel.jobs.deliver", DeliverMessage),
    MessageType(
        "panel.contacts_unused", "panel", "services.panel.jobs.contacts_unused",
        ContactsUnusedMessage,
    ),
    MessageType(
        "panel.api_key_issued", "panel", "services.panel.jobs.api_key_issued", ApiKeyIssuedMessage
    ),
    MessageType(
        "panel.api_key_revoked", "panel", "services.panel.jobs.api_key_revoked",
        ApiKeyRevokedMessage,
    ),
    MessageType(
        "panel.import_members", "panel", "services.panel.jobs.import_members",
        ImportMembersMessage,
    ),
    MessageType(
        "panel.confirm_join", "panel", "services.panel.jobs.confirm_join", ConfirmJoinMessage
    ),
    MessageType("panel.staff_email", "panel", "services.panel.jobs.staff_email", StaffEmailMessage),
    MessageType(
        "panel.survey_respondents", "panel", "services.panel.jobs.survey_respondents",
        SurveyRespondentsMessage,
    ),
    MessageType(
        "panel.agency_named", "panel", "services.panel.jobs.agency_named", AgencyNamedMessage
    ),
    MessageType(
        "surveys.sample_drawn", "surveys", "services.surveys.jobs.sample_drawn", SampleDrawnMessage
    ),
    MessageType(
        "surveys.delivery_report", "surveys", "services.surveys.jobs.delivery_report",
        DeliveryReportMessage,
    ),
    MessageType("surveys.sms_reply", "surveys", "services.surveys.jobs.sms_reply", SmsReplySchema),
    MessageType(
        "surveys.member_erased", "surveys", "services.surveys.jobs.member_erased",
        MemberErasedMessage,
    ),
    MessageType(
        "surveys.population_targets", "surveys", "services.surveys.jobs.population_targets",
        PopulationTargetsMessage,
    ),
    MessageType(
        "surveys.contact_cap_counts", "surveys", "services.surveys.jobs.contact_cap_counts",
        ContactCapCountsMessage,
    ),
    MessageType(
        "surveys.eligible_counts", "surveys", "services.surveys.jobs.eligible_counts",
        EligibleCountsMessage,
    ),
    MessageType(
        "surveys.staff_action", "surveys", "services.surveys.jobs.staff_action",
        StaffActionMessage,
    ),
    MessageType(
        "surveys.export_dataset", "surveys", "services.surveys.jobs.export_dataset",
        ExportDatasetMessage,
    ),
    MessageType(
        "surveys.find_themes", "surveys", "services.surveys.jobs.find_themes",
        FindThemesMessage,
    ),
    MessageType(
        "feedback.survey_themes", "feedback", "services.feedback.jobs.survey_themes",
        SurveyThemesMessage,
    ),
    MessageType(
        "feedback.member_erased", "feedback", "services.feedback.jobs.member_erased",
        MemberErasedMessage,
    ),
    MessageType(
        "feedback.survey_closed", "feedback", "services.feedback.jobs.survey_closed",
        SurveyClosedMessage,
    ),
    MessageType(
        "feedback.report_published", "feedback", "services.feedback.jobs.report_published",
        ReportPublishedMessage,
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


# The big fan-outs' fast paths (shared/bulk_contracts.py): each answers exactly as its schema
# would, or not at all, and then the schema does.
_FAST_LOADS: dict[str, Callable[[dict], dict]] = {
    "panel.deliver": bulk_contracts.load_deliver,
    "surveys.sample_drawn": partial(bulk_contracts.load_sample_drawn,
                                    rest_schema=SampleDrawnMessage(exclude=("members",))),
    "surveys.delivery_report": bulk_contracts.load_delivery_report,
}
_FAST_DUMPS: dict[str, Callable[[dict], dict]] = {
    "panel.deliver": bulk_contracts.dump_deliver,
    "surveys.sample_drawn": partial(bulk_contracts.dump_sample_drawn,
                                    rest_schema=SampleDrawnMessage(exclude=("members",))),
    "surveys.delivery_report": bulk_contracts.dump_delivery_report,
}


def dump_payload(name: str, payload: dict) -> dict:
    """The payload as its contract dumps it."""
    dumped = bulk_contracts.attempt(_FAST_DUMPS.get(name), payload)
    return dumped if dumped is not None else message_type(name).schema().dump(payload)


def load_payload(name: str, payload: dict) -> dict:
    """The payload as its contract loads it; ValidationError when it breaks the contract."""
    loaded = bulk_contracts.attempt(_FAST_LOADS.get(name), payload)
    return loaded if loaded is not None else message_type(name).schema().load(payload)


def build_message(name: str, payload: dict) -> dict:
    """An envelope ready for JSON: the payload dumped through its contract.

    The receiver loads it through the same contract and refuses what breaks it; checking it
    here as well would double the cost of the big fan-outs (a 100,000-member draw spent about
    a third of its time there) for what the contract tests of every message type check.
    """
    dumped = dump_payload(name, payload)
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
        loaded["payload"] = load_payload(name, loaded["payload"])
    except ValidationError as exc:
        raise ContractError(name, exc.messages) from None
    return loaded
