"""The analysis API: weights, disclosed tables, respondent-level data and exports, per agency."""

from __future__ import annotations

from flask import Response as HttpResponse
from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import undefer
from webargs.fields import DelimitedList

from services.surveys.analysis import (
    GROUPINGS,
    AnalysisRefused,
    SurveyWeights,
    merged_dataset,
    published_weighting,
    readable_surveys,
    record_pull,
    survey_weights,
    weighted_table,
)
from services.surveys.exports import FORMATS, write_export
from services.surveys.models import ExportJob, Survey
from services.surveys.tables import published_table
from shared.api_fields import DB_ID
from shared.auth import current_caller, display_prefix, require_role
from shared.db import get_session
from shared.messages import PROFILE_DIMENSIONS
from shared.service import bus

analysis_blp = Blueprint("analysis", __name__, url_prefix="/api/v1/analysis",
                         description="Merged, weighted results across the surveys you sponsor.")

ANALYSTS = ("analyst",)
# Above this many rows a file is built by the worker: POST /api/v1/analysis/exports.
INLINE_EXPORT_ROWS = 20_000


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
    form = fields.String(load_default="wide", validate=validate.OneOf(("wide", "long")))
    format = fields.String(required=True, validate=validate.OneOf(tuple(FORMATS)))


class ExportJobSchema(Schema):
    id = fields.Integer()
    survey_ids = fields.List(fields.Integer())
    format = fields.String()
    form = fields.String()
    status = fields.String()
    progress = fields.Integer()
    row_count = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    download_url = fields.Method("_download")

    def _download(self, job: ExportJob):
        if job.status != "done":
            return None
        return url_for("analysis.ExportFile", export_id=job.id, _external=False)


class WeightingResponseSchema(Schema):
    surveys = fields.List(fields.Dict())


class TableResponseSchema(Schema):
    question = fields.String()
    by = fields.String()
    table = fields.Dict()
    weighting = fields.List(fields.Dict())


def _key_prefix() -> str:
    header = request.headers.get("Authorization", "")
    return display_prefix(header.removeprefix("Bearer ").strip())


def _surveys(session, survey_ids) -> list[Survey]:
    try:
        return readable_surveys(session, agency=current_caller().agency, survey_ids=survey_ids)
    except AnalysisRefused as exc:
        abort(exc.status, message=str(exc), errors={"query": exc.errors})


def _weights(session, surveys, query) -> dict[int, SurveyWeights]:
    # No dimensions asked for: every one the population targets cover.
    dimensions = query["dimensions"] or None
    return {s.id: survey_weights(session, s, dimensions=dimensions, cap=query["cap"])
            for s in surveys}


def _audit(session, action: str, survey_ids, detail: dict, rows: int) -> None:
    caller = current_caller()
    record_pull(session, agency=caller.agency, role=caller.role, key_prefix=_key_prefix(),
                action=action, survey_ids=survey_ids, detail=detail, rows=rows)


@analysis_blp.route("/weights")
class Weights(MethodView):
    decorators = [require_role()]

    @analysis_blp.arguments(SurveysQuerySchema, location="query")
    @analysis_blp.response(200, WeightingResponseSchema)
    def get(self, query):
        """How each survey weights to its population: convergence, design effect, Kish n"""
        session = get_session()
        surveys = _surveys(session, query["survey_ids"])
        weights = _weights(session, surveys, query)
        threshold = current_app.config["SMALL_CELL_THRESHOLD"]
        _audit(session, "weights", query["survey_ids"], {"dimensions": query["dimensions"]}, 0)
        session.commit()
        return {"surveys": [published_weighting(w, threshold) for w in weights.values()]}


@analysis_blp.route("/tables")
class Tables(MethodView):
    decorators = [require_role()]

    @analysis_blp.arguments(TableQuerySchema, location="query")
    @analysis_blp.response(200, TableResponseSchema)
    def get(self, query):
        """A question by a group: weighted % with 95% intervals, bases, small cells hidden"""
        session = get_session()
        surveys = _surveys(session, query["survey_ids"])
        weights = _weights(session, surveys, query)
        try:
            table = weighted_table(session, surveys, weights, question=query["question"],
                                   by=query["by"])
        except AnalysisRefused as exc:
            abort(exc.status, message=str(exc), errors={"query": exc.errors})
        threshold = current_app.config["SMALL_CELL_THRESHOLD"]
        published = published_table(table, threshold)
        _audit(session, "table", query["survey_ids"],
               {"question": query["question"], "by": query["by"]}, 0)
        session.commit()
        return {"question": query["question"], "by": query["by"], "table": published,
                "weighting": [published_weighting(w, threshold) for w in weights.values()]}


@analysis_blp.route("/dataset")
class DatasetView(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.arguments(DatasetQuerySchema, location="query")
    @analysis_blp.response(200)
    def get(self, query):
        """Respondent-level data across your surveys (analysts only), as JSON or a file"""
        session = get_session()
        surveys = _surveys(session, query["survey_ids"])
        weights = _weights(session, surveys, query)
        dataset = merged_dataset(session, surveys, weights, form=query["form"])
        fmt = query["format"]
        if len(dataset.rows) > INLINE_EXPORT_ROWS:
            abort(413, message="Too many rows to build while you wait: POST "
                               "/api/v1/analysis/exports to build it in the background.",
                  errors={"query": {"survey_ids": [f"{len(dataset.rows)} rows."]}})
        _audit(session, f"dataset.{fmt}", query["survey_ids"], {"form": query["form"]},
               len(dataset.rows))
        session.commit()
        if fmt == "json":
            return {"variables": [v.__dict__ for v in dataset.variables],
                    "rows": dataset.rows, "weighting": dataset.weighting}
        content_type, extension = FORMATS[fmt]
        name = f"civicpanel-{'-'.join(map(str, query['survey_ids']))}-{query['form']}.{extension}"
        return HttpResponse(write_export(dataset, fmt), content_type=content_type, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})


@analysis_blp.route("/exports")
class Exports(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.arguments(ExportRequestSchema)
    @analysis_blp.response(202, ExportJobSchema)
    def post(self, data):
        """Build an export file in the background; poll it for progress and its link"""
        session = get_session()
        _surveys(session, data["survey_ids"])
        caller = current_caller()
        job = ExportJob(agency=caller.agency, role=caller.role, key_prefix=_key_prefix(),
                        survey_ids=data["survey_ids"], format=data["format"], form=data["form"])
        session.add(job)
        session.flush()
        bus().send(session, "surveys.export_dataset", {"export_id": job.id})
        session.commit()
        return job


def _own_export(session, export_id: int, *, with_content: bool = False) -> ExportJob:
    statement = select(ExportJob).where(ExportJob.id == export_id,
                                        ExportJob.agency == current_caller().agency)
    if with_content:
        statement = statement.options(undefer(ExportJob.content))
    job = session.scalar(statement)
    if job is None:
        abort(404, message="No such export.")
    return job


@analysis_blp.route("/exports/<int:export_id>")
class ExportById(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.response(200, ExportJobSchema)
    def get(self, export_id):
        """An export's progress, and its download link once done"""
        return _own_export(get_session(), export_id)


@analysis_blp.route("/exports/<int:export_id>/file")
class ExportFile(MethodView):
    decorators = [require_role(*ANALYSTS)]

    @analysis_blp.response(200)
    def get(self, export_id):
        """Download a finished export"""
        session = get_session()
        job = _own_export(session, export_id, with_content=True)
        if job.status != "done":
            abort(409, message=f"This export is {job.status} ({job.progress}% done).")
        _audit(session, f"download.{job.format}", job.survey_ids, {"export_id": job.id},
               job.row_count)
        session.commit()
        content_type, extension = FORMATS[job.format]
        name = f"civicpanel-export-{job.id}.{extension}"
        return HttpResponse(job.content, content_type=content_type, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
