"""The analysis API: weights, disclosed tables, respondent-level data and exports, per agency."""

from __future__ import annotations

from flask import Response as HttpResponse
from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from services.surveys import pulls
from services.surveys.analysis import GROUPINGS
from services.surveys.exports import FORMATS, write_export
from services.surveys.models import ExportJob
from services.surveys.pulls import Puller
from services.surveys.queries import own_export
from services.surveys.schemas import BackgroundJobSchema
from shared.api_fields import DB_ID
from shared.auth import current_caller, display_prefix, require_role
from shared.db import get_session
from shared.messages import PROFILE_DIMENSIONS
from shared.service import bus
from shared.statuses import ExportStatus

analysis_blp = Blueprint("analysis", __name__, url_prefix="/api/v1/analysis",
                         description="Merged, weighted results across the surveys you sponsor.")

ANALYSTS = ("analyst",)


class SurveysQuerySchema(Schema):
    survey_ids = DelimitedList(fields.Integer(validate=DB_ID), required=True,
                                      validate=validate.Length(min=1, max=50))
    dimensions = DelimitedList(
        fields.String(validate=validate.OneOf(PROFILE_DIMENSIONS)), load_default=list)
    cap = fields.Float(load_default=5.0, allow_none=True, validate=validate.Range(min=1.5))


class TableQuerySchema(SurveysQuerySchema):
    question = fields.String(required=True, validate=validate.Length(min=1, max=64))
    by = fields.String(load_default="survey", validate=validate.OneOf(GROUPINGS))


class DatasetQuerySchema(SurveysQuerySchema):
    form = fields.String(load_default="wide", validate=validate.OneOf(("wide", "long")))
    format = fields.String(load_default="json",
                           validate=validate.OneOf(("json", *FORMATS)))


class ExportRequestSchema(Schema):
    survey_ids = fields.List(fields.Integer(validate=DB_ID), required=True,
                             validate=validate.Length(min=1, max=50))
    dimensions = fields.List(fields.String(validate=validate.OneOf(PROFILE_DIMENSIONS)),
                             load_default=list)
    form = fields.String(load_default="wide", validate=validate.OneOf(("wide", "long")))
    format = fields.String(required=True, validate=validate.OneOf(tuple(FORMATS)))


class ExportJobSchema(BackgroundJobSchema):
    survey_ids = fields.List(fields.Integer())
    dimensions = fields.List(fields.String())
    format = fields.String()
    form = fields.String()
    row_count = fields.Integer()
    download_url = fields.Method("_download")

    def _download(self, job: ExportJob):
        if job.status != ExportStatus.DONE:
            return None
        return url_for("analysis.ExportFile", export_id=job.id, _external=False)


class WeightingResponseSchema(Schema):
    surveys = fields.List(fields.Dict())


class TableResponseSchema(Schema):
    question = fields.String()
    by = fields.String()
    table = fields.Dict()
    weighting = fields.List(fields.Dict())


def puller() -> Puller:
    """The caller as the audit log records them, with the prefix of the key they used."""
    header = request.headers.get("Authorization", "")
    caller = current_caller()
    return Puller(caller.agency, caller.role,
                  display_prefix(header.removeprefix("Bearer ").strip()))


def _threshold() -> int:
    return current_app.config["SMALL_CELL_THRESHOLD"]


def attachment(content: bytes, fmt: str, stem: str) -> HttpResponse:
    content_type, extension = FORMATS[fmt]
    return HttpResponse(content, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{stem}.{extension}"'})


@analysis_blp.route("/weights")
class Weights(MethodView):
    decorators = [require_role()]

    @analysis_blp.arguments(SurveysQuerySchema, location="query")
    @analysis_blp.response(200, WeightingResponseSchema)
    def get(self, query):
        """How each survey weights to its population: convergence, design effect, Kish n"""
        return pulls.weighting(get_session(), who=puller(), survey_ids=query["survey_ids"],
                               dimensions=query["dimensions"], cap=query["cap"],
                               threshold=_threshold())


@analysis_blp.route("/tables")
class Tables(MethodView):
    decorators = [require_role()]

    @analysis_blp.arguments(TableQuerySchema, location="query")
    @analysis_blp.response(200, TableResponseSchema)
    def get(self, query):
        """A question by a group: weighted % with 95% intervals, bases, small cells hidden"""
        return pulls.table(get_session(), who=puller(), survey_ids=query["survey_ids"],
                           dimensions=query["dimensions"], cap=query["cap"],
                           question=query["question"], by=query["by"], threshold=_threshold())


@analysis_blp.route("/dataset")
class DatasetView(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.arguments(DatasetQuerySchema, location="query")
    @analysis_blp.response(200)
    def get(self, query):
        """Respondent-level data across your surveys (analysts only), as JSON or a file"""
        fmt = query["format"]
        dataset = pulls.dataset(get_session(), who=puller(), survey_ids=query["survey_ids"],
                                dimensions=query["dimensions"], cap=query["cap"],
                                form=query["form"], fmt=fmt)
        if fmt == "json":
            return {"variables": [v.__dict__ for v in dataset.variables],
                    "rows": dataset.rows, "weighting": dataset.weighting}
        stem = f"civicpanel-{'-'.join(map(str, query['survey_ids']))}-{query['form']}"
        return attachment(write_export(dataset, fmt), fmt, stem)


@analysis_blp.route("/exports")
class Exports(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.arguments(ExportRequestSchema)
    @analysis_blp.response(202, ExportJobSchema)
    def post(self, data):
        """Build an export file in the background; poll it for progress and its link"""
        return pulls.request_export(get_session(), bus(), who=puller(),
                                    survey_ids=data["survey_ids"],
                                    dimensions=data["dimensions"], form=data["form"],
                                    fmt=data["format"])


@analysis_blp.route("/exports/<int:export_id>")
class ExportById(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.response(200, ExportJobSchema)
    def get(self, export_id):
        """An export's progress, and its download link once done"""
        return own_export(get_session(), agency=current_caller().agency, export_id=export_id)


@analysis_blp.route("/exports/<int:export_id>/file")
class ExportFile(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.response(200)
    def get(self, export_id):
        """Download a finished export"""
        job = pulls.download(get_session(), who=puller(), export_id=export_id)
        return attachment(job.content, job.format, f"civicpanel-export-{job.id}")
