"""Marshmallow schemas of the feedback API."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from marshmallow import Schema, fields, validate

from services.feedback.accountability import commitment_timing, is_overdue
from services.feedback.findings import (
    headline,
    most_preferred,
    preference_question,
    publishable_question,
    published_results,
    representativeness_note,
)
from services.feedback.reports import RELATIONS, effective_relation, publish_problems
from shared.statuses import CommitmentStatus, ReportStatus


def threshold() -> int:
    return current_app.config["SMALL_CELL_THRESHOLD"]


class ReportUpdateSchema(Schema):
    we_did = fields.String(validate=validate.Length(min=10, max=5000))
    why = fields.String(validate=validate.Length(min=10, max=5000))
    decided_on = fields.Date()
    decision_relation = fields.String(validate=validate.OneOf(RELATIONS))
    preference_question = fields.String(validate=validate.Length(min=1, max=100))
    chosen_answer = fields.String(validate=validate.Length(min=1, max=500))


class CommitmentCreateSchema(Schema):
    action = fields.String(required=True, validate=validate.Length(min=5, max=2000))
    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))
    owner = fields.String(validate=validate.Length(min=2, max=200))
    due_on = fields.Date(required=True)


class ProgressUpdateCreateSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    status = fields.String(validate=validate.OneOf([s.value for s in CommitmentStatus]))
    written_on = fields.Date()
    reason = fields.String(validate=validate.Length(min=5, max=2000))


class ProgressUpdateSchema(Schema):
    id = fields.Integer()
    written_on = fields.Date()
    text = fields.String()
    status = fields.String()


class CommitmentSchema(Schema):
    id = fields.Integer()
    action = fields.String()
    agency = fields.String()
    owner = fields.String(allow_none=True)
    due_on = fields.Date()
    status = fields.String()
    done_on = fields.Date(allow_none=True)
    dropped_reason = fields.String(allow_none=True)
    timing = fields.Method("_timing")
    updates = fields.List(fields.Nested(ProgressUpdateSchema))

    def _timing(self, commitment):
        return commitment_timing(commitment.status, commitment.due_on, commitment.done_on,
                                 datetime.now(UTC).date())


class QuestionResultSchema(Schema):
    code = fields.String()
    text = fields.String()
    type = fields.String()
    base = fields.Integer(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True))
    weighted_percent = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                                   allow_none=True)
    mean = fields.Float(allow_none=True)
    weighted_mean = fields.Float(allow_none=True)
    comments = fields.Integer()
    headline = fields.String()


class PublicReportSchema(Schema):
    """A report as anyone may read it: small cells hidden (null), here as on the pages."""

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
    areas = fields.Method("_areas")
    topics = fields.Method("_topics")
    closed_at = fields.DateTime()
    invited = fields.Integer()
    respondents = fields.Integer()
    results = fields.Method("_results")
    most_preferred = fields.Method("_most_preferred")
    representativeness = fields.Method("_representativeness")
    weighting = fields.Dict(allow_none=True)
    we_did = fields.String(allow_none=True)
    why = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    decision_relation = fields.Method("_relation")
    published_at = fields.DateTime(allow_none=True)
    commitments = fields.List(fields.Nested(CommitmentSchema))

    def _results(self, report):
        shown = published_results(report.results, threshold())
        return QuestionResultSchema(many=True).dump(
            [{**q, "headline": headline(raw, threshold())}
             for q, raw in zip(shown, report.results, strict=True)])

    def _most_preferred(self, report):
        """What most preferred, unless its answer is a hidden small cell."""
        question = preference_question(report.results, report.preference_question)
        preferred = most_preferred(question) if question else None
        if preferred is None or preferred["answer"] is None:
            return preferred
        if publishable_question(question, threshold())["counts"].get(
                preferred["answer"]) is None:
            return None
        return preferred

    def _representativeness(self, report):
        return representativeness_note(report.representation or [], report.weighting,
                                       report.respondents, report.invited, threshold(),
                                       report.results)

    def _relation(self, report):
        return effective_relation(report)

    def _sponsors(self, report):
        return [s.agency for s in report.sponsors]

    def _areas(self, report):
        return report.tag_values("area")

    def _topics(self, report):
        return report.tag_values("topic")


class ReportSchema(PublicReportSchema):
    """A report as its sponsors see it: also the figures as surveys sent them, and what stops
    it from being published."""

    survey_results = fields.Method("_survey_results")
    preference_question = fields.String(allow_none=True)
    chosen_answer = fields.String(allow_none=True)
    stated_relation = fields.String(attribute="decision_relation", allow_none=True)
    overdue = fields.Method("_overdue")
    publish_problems = fields.Method("_problems")

    def _survey_results(self, report):
        return report.results

    def _overdue(self, report):
        return is_overdue(report.status, report.closed_at, datetime.now(UTC),
                          current_app.config["FEEDBACK_OVERDUE_DAYS"])

    def _problems(self, report):
        return publish_problems(report) if report.status == ReportStatus.DRAFT else {}


class PublicReportQuerySchema(Schema):
    agency = fields.String(validate=validate.Length(max=64))
    area = fields.String(validate=validate.Length(max=100))
    topic = fields.String(validate=validate.Length(max=100))


class PublishResultSchema(Schema):
    report = fields.Nested(ReportSchema)
    respondents_to_tell = fields.Integer()


class ScoreboardRowSchema(Schema):
    agency = fields.String()
    name = fields.String()
    surveys_closed = fields.Integer()
    reports_published = fields.Integer()
    median_days_to_publish = fields.Float(allow_none=True)
    overdue_reports = fields.Integer()
    commitments = fields.Integer()
    commitments_done = fields.Integer()
    commitments_on_time = fields.Integer()
    commitments_late = fields.Integer()
    commitments_dropped = fields.Integer()


class OverdueFlagSchema(Schema):
    report_id = fields.Integer()
    title = fields.String()
    agency = fields.String()
    closed_at = fields.DateTime()
    days_overdue = fields.Integer()
    first_flagged_at = fields.DateTime()
    last_flagged_at = fields.DateTime()
