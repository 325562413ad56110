"""Marshmallow schemas of the surveys API."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

QUESTION_TYPES = ("single_choice", "rating", "free_text")
SURVEY_STATUSES = ("draft", "fieldwork", "closed")


class ScaleSchema(Schema):
    min = fields.Integer(required=True, validate=validate.Range(min=0, max=1))
    max = fields.Integer(required=True, validate=validate.Range(min=2, max=10))
    labels = fields.List(fields.String(validate=validate.Length(max=60)), load_default=list)


class QuestionInputSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,63}$", error="Use lower-case letters, digits and _ (like feel_safe)."))
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    text = fields.String(required=True, validate=validate.Length(min=3, max=500))
    options = fields.List(fields.String(validate=validate.Length(min=1, max=120)),
                          load_default=list)
    scale = fields.Nested(ScaleSchema, load_default=None, allow_none=True)
    required = fields.Boolean(load_default=True)

    @validates_schema
    def _shape(self, data, **_kwargs):
        kind = data["type"]
        if kind == "single_choice":
            options = data.get("options") or []
            if len(options) < 2:
                raise ValidationError("A single-choice question needs at least 2 options.",
                                      "options")
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


class DecisionInputSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=5, max=1000))
    owner = fields.String(required=True, validate=validate.Length(min=2, max=200))
    due = fields.Date(required=True)


class SponsorSchema(Schema):
    agency = fields.String(required=True)
    cost_share = fields.Decimal(required=True, places=2, as_string=True,
                                validate=validate.Range(min=Decimal("0.01"), max=Decimal("100")))


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

    @validates_schema
    def _whole(self, data, **_kwargs):
        agencies = [s["agency"] for s in data["sponsors"]]
        if len(set(agencies)) != len(agencies):
            raise ValidationError("Each agency can sponsor once.", "sponsors")
        total = sum(Decimal(s["cost_share"]) for s in data["sponsors"])
        if total != Decimal("100"):
            raise ValidationError(f"Cost shares must add up to 100; they add up to {total}.",
                                  "sponsors")
        codes = [q["code"] for q in data["questions"]]
        if len(set(codes)) != len(codes):
            raise ValidationError("Question codes must be unique within a survey.", "questions")


class SponsorOutSchema(Schema):
    agency = fields.String()
    cost_share = fields.Decimal(as_string=True)


class QuestionSchema(Schema):
    code = fields.String()
    type = fields.String()
    text = fields.String()
    options = fields.List(fields.String())
    scale = fields.Method("_scale")
    required = fields.Boolean()

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
