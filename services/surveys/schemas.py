"""Marshmallow schemas of the surveys API."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.surveys.questions import CHANNELS, QUESTION_TYPES, sms_problem
from shared.api_fields import DB_ID, DB_INTEGER, money
from shared.messages import PROFILE_DIMENSIONS, ROLES
from shared.statuses import SurveyStatus

SURVEY_STATUSES = tuple(status.value for status in SurveyStatus)
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$",
                       error="Use lower-case letters, digits and _ (like feel_safe).")
LANGUAGE = validate.Regexp(r"^[a-z]{2,3}$", error="Use a language code like en or cy.")
UNIQUE_CODES = "Question codes must be unique within a survey."
# Areas, topics or quota cells of one survey: far more than any place has.
MAX_TAGS = 200


class ScaleSchema(Schema):
    min = fields.Integer(required=True, validate=validate.Range(min=0, max=1))
    max = fields.Integer(required=True, validate=validate.Range(min=2, max=10))
    labels = fields.List(fields.String(validate=validate.Length(max=60)), load_default=list)


class ShowIfSchema(Schema):
    question = fields.String(required=True, validate=CODE)
    # The earlier question's answers (stored values, e.g. "yes" or an option) that show this one.
    in_ = fields.List(fields.String(), required=True, data_key="in", attribute="in",
                      validate=validate.Length(min=1))


class TranslationSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=3, max=500))
    options = fields.List(fields.String(validate=validate.Length(min=1, max=120)),
                          load_default=list)
    labels = fields.List(fields.String(validate=validate.Length(max=60)), load_default=list)


class SurveyTranslationSchema(Schema):
    """A survey's own words in another language, as its questions' are (TranslationSchema)."""

    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    summary = fields.String(load_default="", validate=validate.Length(max=2000))


class QuestionDefinitionSchema(Schema):
    """A question as defined, in a survey or in the question bank."""

    code = fields.String(required=True, validate=CODE)
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(required=True, validate=validate.Length(min=3, max=500))
    options = fields.List(fields.String(validate=validate.Length(min=1, max=120)),
                          load_default=list)
    scale = fields.Nested(ScaleSchema, load_default=None, allow_none=True)
    min = fields.Integer(load_default=None, allow_none=True, validate=DB_INTEGER)
    max = fields.Integer(load_default=None, allow_none=True, validate=DB_INTEGER)
    required = fields.Boolean(load_default=True)
    translations = fields.Dict(keys=fields.String(validate=LANGUAGE),
                               values=fields.Nested(TranslationSchema), load_default=dict)

    @validates_schema
    def _shape(self, data, **_kwargs):
        kind = data["type"]
        if kind in ("single_choice", "multiple_choice"):
            options = data.get("options") or []
            if len(options) < 2:
                raise ValidationError(f"A {kind.replace('_', '-')} question needs at least 2 "
                                      "options.", "options")
            if len(set(options)) != len(options):
                raise ValidationError("Options must differ from each other.", "options")
        elif data.get("options"):
            raise ValidationError(f"A {kind} question has no options.", "options")
        if kind == "rating":
            scale = data.get("scale")
            if scale is None:
                raise ValidationError("A rating question needs a scale (min, max).", "scale")
            span = scale["max"] - scale["min"] + 1
            if scale["labels"] and len(scale["labels"]) != span:
                raise ValidationError(f"Give {span} labels, one per point, or none.", "scale")
        if kind == "number":
            low, high = data.get("min"), data.get("max")
            if low is not None and high is not None and low > high:
                raise ValidationError("min must not be more than max.", "max")
        elif data.get("min") is not None or data.get("max") is not None:
            raise ValidationError("Only a number question has bounds (min, max).", "min")
        for language, words in data.get("translations", {}).items():
            if words["options"] and len(words["options"]) != len(data.get("options") or []):
                raise ValidationError({language: {"options": [
                    "Translate every option, in the same order."]}}, "translations")


class QuestionInputSchema(QuestionDefinitionSchema):
    """A survey's question: its own definition, or one from the question bank by its code."""

    code = fields.String(load_default=None, validate=CODE)
    type = fields.String(load_default=None, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(load_default=None, validate=validate.Length(min=3, max=500))
    bank_code = fields.String(load_default=None, validate=CODE)
    show_if = fields.Nested(ShowIfSchema, load_default=None, allow_none=True)

    @validates_schema
    def _shape(self, data, **kwargs):
        if data.get("bank_code"):
            return
        missing = {name: ["Missing data for required field."] for name in ("code", "type", "text")
                   if data.get(name) is None}
        if missing:
            raise ValidationError(missing)
        super()._shape(data, **kwargs)


def check_question_module(questions: list[dict], channels: list[str],
                          earlier: list[dict] = ()) -> dict:
    """Errors, by question index, of show-if rules and of the SMS dialogue rule."""
    errors: dict = {}
    seen = {q["code"]: q for q in earlier if q.get("code")}
    for index, question in enumerate(questions):
        rule = question.get("show_if")
        if rule:
            target = seen.get(rule["question"])
            if target is None:
                errors.setdefault(index, {})["show_if"] = [
                    f"Show-if must refer to an earlier question; {rule['question']} is not one."]
        if "sms_dialogue" in channels and question.get("type"):
            problem = sms_problem(question)
            if problem:
                errors.setdefault(index, {})["type"] = [
                    f"Question {question.get('code')}: {problem}"]
        if question.get("code"):
            seen[question["code"]] = question
    return errors


class QuotaSchema(Schema):
    cell = fields.Dict(keys=fields.String(validate=validate.OneOf(PROFILE_DIMENSIONS)),
                       values=fields.String(), required=True,
                       validate=validate.Length(min=1))
    target = fields.Integer(required=True, validate=DB_ID)


class FieldworkSchema(Schema):
    start = fields.Date(load_default=None, allow_none=True)
    end = fields.Date(required=True)

    @validates_schema
    def _order(self, data, **_kwargs):
        if data.get("start") and data["start"] > data["end"]:
            raise ValidationError("The window must end after it starts.", "end")


class DecisionInputSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=5, max=1000))
    owner = fields.String(required=True, validate=validate.Length(min=2, max=200))
    due = fields.Date(required=True)


class SponsorSchema(Schema):
    agency = fields.String(required=True)
    cost_share = money("0.01", "100", whole_digits=3, required=True)


class SurveyCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    summary = fields.String(load_default="", validate=validate.Length(max=2000))
    purpose = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=10, max=2000))
    scope = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(min=10, max=2000))
    decision = fields.Nested(DecisionInputSchema, load_default=None, allow_none=True)
    sponsors = fields.List(fields.Nested(SponsorSchema), required=True,
                           validate=validate.Length(min=1, max=10))
    sample_size = fields.Integer(required=True, validate=validate.Range(min=1, max=500_000))
    questions = fields.List(fields.Nested(QuestionInputSchema), required=True,
                            validate=validate.Length(min=1, max=100))
    # Bounded: every analysis of a survey goes through its areas and topics.
    areas = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                        load_default=list, validate=validate.Length(max=MAX_TAGS))
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                         load_default=list, validate=validate.Length(max=MAX_TAGS))
    fieldwork = fields.Nested(FieldworkSchema, load_default=None, allow_none=True)
    target_completes = fields.Integer(load_default=None, allow_none=True, validate=DB_ID)
    quotas = fields.List(fields.Nested(QuotaSchema), load_default=list,
                         validate=validate.Length(max=MAX_TAGS))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)),
                           load_default=lambda: ["web", "sms_link"],
                           validate=validate.Length(min=1))
    reminder_days = fields.List(fields.Integer(validate=validate.Range(min=1, max=90)),
                                load_default=list, validate=validate.Length(max=5))
    languages = fields.List(fields.String(validate=LANGUAGE), load_default=lambda: ["en"],
                            validate=validate.Length(min=1))
    # Whether other agencies may ask to co-sponsor the draft.
    open_to_join = fields.Boolean(load_default=True)
    # {"cy": {"title": ..., "summary": ...}}: needed at launch for each language but English.
    translations = fields.Dict(keys=fields.String(validate=LANGUAGE),
                               values=fields.Nested(SurveyTranslationSchema), load_default=dict)

    @validates_schema
    def _whole(self, data, **_kwargs):
        check_whole_survey(data)


def check_whole_survey(data: dict) -> None:
    """The rules across a survey's fields, of whatever part of a survey `data` holds."""
    if "sponsors" in data:
        agencies = [s["agency"] for s in data["sponsors"]]
        if len(set(agencies)) != len(agencies):
            raise ValidationError("Each agency can sponsor once.", "sponsors")
        total = sum(Decimal(s["cost_share"]) for s in data["sponsors"])
        if total != Decimal("100"):
            raise ValidationError(f"Cost shares must add up to 100; they add up to {total}.",
                                  "sponsors")
    if "questions" in data:
        codes = [q["code"] or q["bank_code"] for q in data["questions"]]
        if len(set(codes)) != len(codes):
            raise ValidationError(UNIQUE_CODES, "questions")
    if "languages" in data and "en" not in data["languages"]:
        raise ValidationError("English must be one of the languages.", "languages")
    if "questions" in data:
        errors = check_question_module(data["questions"],
                                       data.get("channels") or ["web", "sms_link"])
        if errors:
            raise ValidationError(errors, "questions")


class SurveyDraftSchema(SurveyCreateSchema):
    """A whole draft as the builder keeps it between steps: the create rules, but a draft
    may have no questions yet (it cannot launch without one)."""

    questions = fields.List(fields.Nested(QuestionInputSchema), load_default=list,
                            validate=validate.Length(max=100))


class SurveyUpdateSchema(SurveyCreateSchema):
    """Changes to a draft's details (load it with partial=True): any of the create fields
    but its questions, which are added, edited, moved and removed one at a time."""

    class Meta:
        exclude = ("questions",)


def survey_changes_schema() -> SurveyUpdateSchema:
    """Changes to a draft: any field may be left out, but one given (a decision, a fieldwork
    window, a sponsor) is given whole."""
    return SurveyUpdateSchema(partial=tuple(SurveyUpdateSchema().fields))


class DraftStartSchema(Schema):
    """A draft to build in steps: a blank one with its title, or a copy of another survey."""

    title = fields.String(load_default=None, validate=validate.Length(min=3, max=200))
    copy_of = fields.Integer(load_default=None, allow_none=True, validate=DB_ID)

    @validates_schema
    def _title_or_copy(self, data, **_kwargs):
        if data["copy_of"] is None and data["title"] is None:
            raise ValidationError("Give the new survey a title, or a survey to copy.", "title")


class QuestionMoveSchema(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(("up", "down")))


class SponsorOutSchema(Schema):
    agency = fields.String()
    # Money goes out as a string ("33.34"), so it is documented as one.
    cost_share = fields.Decimal(as_string=True, metadata={
        "type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$", "example": "33.34"})


class QuestionSchema(Schema):
    code = fields.String()
    type = fields.String()
    text = fields.String()
    options = fields.List(fields.String())
    scale = fields.Method("_scale")
    min = fields.Integer(attribute="min_value", allow_none=True)
    max = fields.Integer(attribute="max_value", allow_none=True)
    required = fields.Boolean()
    show_if = fields.Dict(allow_none=True)
    translations = fields.Dict()
    module_agency = fields.String(allow_none=True)
    bank_code = fields.String(allow_none=True)

    def _scale(self, question):
        if question.type != "rating":
            return None
        return {"min": question.scale_min, "max": question.scale_max,
                "labels": question.scale_labels}


class SurveySchema(Schema):
    id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    purpose = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    decision = fields.Method("_decision")
    lead_agency = fields.String()
    sponsors = fields.List(fields.Nested(SponsorOutSchema))
    sample_size = fields.Integer()
    status = fields.String()
    questions = fields.List(fields.Nested(QuestionSchema))
    created_at = fields.DateTime()
    launched_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    areas = fields.List(fields.String())
    topics = fields.List(fields.String())
    fieldwork = fields.Method("_fieldwork")
    target_completes = fields.Integer(allow_none=True)
    quotas = fields.List(fields.Dict())
    channels = fields.List(fields.String())
    reminder_days = fields.List(fields.Integer())
    languages = fields.List(fields.String())
    translations = fields.Dict()
    open_to_join = fields.Boolean()
    # Agencies the lead named as sponsors: not sponsors until they accept.
    invitations = fields.Method("_invitations")
    # Surveys of other agencies in the same areas and time with overlapping topics (on
    # create and launch), each with where to ask to join it instead.
    overlaps = fields.List(fields.Dict(), dump_default=list)

    def _invitations(self, survey):
        return [{"id": r.id, "agency": r.agency,
                 "proposed_cost_share": f"{Decimal(str(r.cost_share)):.2f}", "status": r.status}
                for r in survey.join_requests if r.kind == "invitation"]

    def _fieldwork(self, survey):
        if survey.fieldwork_end is None:
            return None
        return {"start": survey.fieldwork_start.isoformat() if survey.fieldwork_start else None,
                "end": survey.fieldwork_end.isoformat()}

    def _decision(self, survey):
        if survey.decision is None:
            return None
        return {"description": survey.decision, "owner": survey.decision_owner,
                "due": survey.decision_due.isoformat() if survey.decision_due else None}


class SurveyListQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(SURVEY_STATUSES))


class QuestionResultSchema(Schema):
    code = fields.String()
    text = fields.String()
    type = fields.String()
    base = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    mean = fields.Float(allow_none=True)
    comments = fields.Integer()


class ResultsSchema(Schema):
    survey_id = fields.Integer()
    status = fields.String()
    invited = fields.Integer()
    responded = fields.Integer()
    questions = fields.List(fields.Nested(QuestionResultSchema))


class AgencySchema(Schema):
    slug = fields.String()
    name = fields.String()


class BankQuestionSchema(Schema):
    code = fields.String()
    agency = fields.String()
    definition = fields.Dict()
    created_at = fields.DateTime()


class BankListQuerySchema(Schema):
    search = fields.String(load_default=None, validate=validate.Length(min=2, max=100))


class JoinRequestInputSchema(Schema):
    message = fields.String(load_default="", validate=validate.Length(max=2000))
    questions = fields.List(fields.Nested(QuestionInputSchema), load_default=list,
                            validate=validate.Length(max=50))


class JoinRequestSchema(Schema):
    id = fields.Integer()
    survey_id = fields.Integer()
    agency = fields.String()
    # "request" (the agency asked) or "invitation" (the lead named it as a sponsor).
    kind = fields.String()
    proposed_cost_share = fields.Decimal(attribute="cost_share", as_string=True, places=2,
                                         allow_none=True)
    message = fields.String()
    questions = fields.List(fields.Dict())
    status = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class JoinDecisionSchema(Schema):
    """The lead's answer: approving sets every sponsor's new cost share (summing to 100)."""

    approve = fields.Boolean(required=True)
    sponsors = fields.List(fields.Nested(SponsorSchema), load_default=list)

    @validates_schema
    def _shares(self, data, **_kwargs):
        if not data["approve"]:
            return
        if not data["sponsors"]:
            raise ValidationError("Give every sponsor's cost share, the new one included.",
                                  "sponsors")
        total = sum(Decimal(s["cost_share"]) for s in data["sponsors"])
        if total != Decimal("100"):
            raise ValidationError(f"Cost shares must add up to 100; they add up to {total}.",
                                  "sponsors")


class InvitationSchema(Schema):
    """An invitation to co-sponsor, as the invited agency sees it: enough to decide on."""

    id = fields.Integer()
    survey_id = fields.Integer()
    title = fields.String(attribute="survey.title")
    purpose = fields.String(attribute="survey.purpose", allow_none=True)
    lead_agency = fields.String(attribute="survey.lead_agency")
    proposed_cost_share = fields.Decimal(attribute="cost_share", as_string=True, places=2)
    status = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class InvitationAnswerSchema(Schema):
    accept = fields.Boolean(required=True)


class ApiKeyInputSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    label = fields.String(load_default="", validate=validate.Length(max=200))


class ApiKeySchema(Schema):
    key_prefix = fields.String()
    agency = fields.String()
    role = fields.String()
    label = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    # Only when issued: the key itself, shown once.
    key = fields.String(load_default=None, allow_none=True)


class OverlapSchema(Schema):
    survey_id = fields.Integer()
    title = fields.String()
    lead_agency = fields.String()
    status = fields.String()
    areas = fields.List(fields.String())
    topics = fields.List(fields.String())
    fieldwork = fields.Dict(allow_none=True)
    join = fields.String()


class RateSchema(Schema):
    invited = fields.Integer()
    completed = fields.Integer()
    rate = fields.Float(allow_none=True)


class CellFillSchema(Schema):
    cell = fields.Dict()
    target = fields.Integer()
    invited = fields.Integer()
    completed = fields.Integer()
    fill = fields.Float()
    full = fields.Boolean()


class MonitorSchema(Schema):
    survey_id = fields.Integer()
    status = fields.String()
    invited = fields.Integer()
    delivered = fields.Integer()
    started = fields.Integer()
    completed = fields.Integer()
    response_rate = fields.Float(allow_none=True)
    by_channel = fields.Dict(keys=fields.String(), values=fields.Nested(RateSchema))
    by_group = fields.Dict(keys=fields.String(), values=fields.Dict(
        keys=fields.String(), values=fields.Nested(RateSchema)))
    answered_by = fields.Dict(keys=fields.String(), values=fields.Integer())
    cells = fields.List(fields.Nested(CellFillSchema))
    top_ups = fields.Integer()


class RemindedSchema(Schema):
    reminded = fields.Integer()


class BackgroundJobSchema(Schema):
    """Where a job the worker does for a caller stands (an export, a theme run)."""

    id = fields.Integer()
    status = fields.String()
    progress = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
