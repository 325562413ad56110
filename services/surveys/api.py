"""The surveys JSON API: agencies, and surveys scoped to the agencies that sponsor them."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.surveys.lifecycle import (
    SurveyRuleBroken,
    close_survey,
    create_survey,
    launch_survey,
    survey_results,
)
from services.surveys.models import Agency, Survey, SurveySponsor
from services.surveys.schemas import (
    AgencySchema,
    ResultsSchema,
    SurveyCreateSchema,
    SurveyListQuerySchema,
    SurveySchema,
)
from shared.auth import current_caller, require_role
from shared.db import get_session, page_of
from shared.service import bus

agencies_blp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies",
                         description="The partner agencies.")
surveys_blp = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys",
                        description="Surveys, visible to the agencies that sponsor them.")

WRITERS = ("admin", "officer")


def sponsored_by(agency: str):
    return (
        select(Survey)
        .where(Survey.id.in_(select(SurveySponsor.survey_id).where(SurveySponsor.agency == agency)))
        .options(selectinload(Survey.sponsors), selectinload(Survey.questions))
    )


def sponsored_survey_or_404(session: Session, survey_id: int) -> Survey:
    """The survey when the caller's agency sponsors it; otherwise as if it did not exist."""
    survey = session.scalar(sponsored_by(current_caller().agency).where(Survey.id == survey_id))
    if survey is None:
        abort(404, message="No such survey.")
    return survey


def refuse(exc: SurveyRuleBroken):
    abort(exc.status, message=str(exc), errors={"json": exc.errors})


@agencies_blp.route("")
class Agencies(MethodView):
    decorators = [require_role()]

    @agencies_blp.response(200, AgencySchema(many=True))
    def get(self):
        """List the partner agencies"""
        return get_session().scalars(select(Agency).order_by(Agency.slug)).all()


@surveys_blp.route("")
class Surveys(MethodView):
    decorators = [require_role()]

    @surveys_blp.arguments(SurveyListQuerySchema, location="query")
    @surveys_blp.response(200, SurveySchema(many=True))
    @surveys_blp.paginate()
    def get(self, query, pagination_parameters):
        """List the surveys your agency sponsors"""
        statement = sponsored_by(current_caller().agency).order_by(Survey.id.desc())
        if query["status"]:
            statement = statement.where(Survey.status == query["status"])
        return page_of(get_session(), statement, pagination_parameters)

    @surveys_blp.arguments(SurveyCreateSchema)
    @surveys_blp.response(201, SurveySchema)
    def post(self, data):
        """Draft a survey, led by your agency"""
        if current_caller().role not in WRITERS:
            abort(403, message="Only officers and admins draft surveys.")
        session = get_session()
        try:
            survey = create_survey(session, data=data, lead_agency=current_caller().agency)
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return survey


@surveys_blp.route("/<int:survey_id>")
class SurveyById(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, SurveySchema)
    def get(self, survey_id):
        """Read a survey your agency sponsors"""
        return sponsored_survey_or_404(get_session(), survey_id)


@surveys_blp.route("/<int:survey_id>/launch")
class SurveyLaunch(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(202, SurveySchema)
    def post(self, survey_id):
        """Launch a draft: the panel draws the sample and invitations go out"""
        session = get_session()
        survey = sponsored_survey_or_404(session, survey_id)
        try:
            launch_survey(session, bus(), survey, date.today())
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return survey


@surveys_blp.route("/<int:survey_id>/close")
class SurveyClose(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(200, SurveySchema)
    def post(self, survey_id):
        """Close fieldwork and hand the results to feedback"""
        session = get_session()
        survey = sponsored_survey_or_404(session, survey_id)
        try:
            close_survey(session, bus(), survey)
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return survey


@surveys_blp.route("/<int:survey_id>/results")
class SurveyResults(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, ResultsSchema)
    def get(self, survey_id):
        """Counts per question, for the survey's sponsors"""
        session = get_session()
        return survey_results(session, sponsored_survey_or_404(session, survey_id))
