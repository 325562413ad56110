"""Marshmallow schemas of the feedback API."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate

from services.feedback.disclosure import published_results


class ReportUpdateSchema(Schema):
    we_did = fields.String(validate=validate.Length(min=10, max=5000))
    why = fields.String(validate=validate.Length(min=10, max=5000))
    decided_on = fields.Date()


class QuestionResultSchema(Schema):
    code = fields.String()
    text = fields.String()
    type = fields.String()
    base = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True))
    mean = fields.Float(allow_none=True)
    comments = fields.Integer()


class ReportSchema(Schema):
    id = fields.Integer()
    survey_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    purpose = fields.String()
    scope = fields.String()
    decision = fields.String()
    decision_owner = fields.String()
    decision_due = fields.Date()
    sponsors = fields.Method("_sponsors")
    closed_at = fields.DateTime()
    invited = fields.Integer()
    respondents = fields.Integer()
    results = fields.Method("_results")
    we_did = fields.String(allow_none=True)
    why = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    published_at = fields.DateTime(allow_none=True)

    def _results(self, report):
        """Results as published: small cells hidden (null), here as on the public pages."""
        shown = published_results(report.results, current_app.config["SMALL_CELL_THRESHOLD"])
        return QuestionResultSchema(many=True).dump(shown)

    def _sponsors(self, report):
        return [s.agency for s in report.sponsors]


class PublishResultSchema(Schema):
    report = fields.Nested(ReportSchema)
    respondents_to_tell = fields.Integer()
