"""The themes API: the themes of a survey's free-text answers, runs to find them, and edits
that steer them; for officers and analysts of an agency sponsoring the survey."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.surveys import themes as use
from services.surveys.schemas import BackgroundJobSchema
from shared.api_fields import DB_ID
from shared.audit import current_actor
from shared.auth import current_caller, require_role
from shared.db import get_session
from shared.service import bus

themes_blp = Blueprint("themes_api", __name__, url_prefix="/api/v1/surveys",
                       description="Themes in free-text answers, found on our own machines.")
STEERS = ("officer", "analyst")


class RunSchema(BackgroundJobSchema):
    question_code = fields.String()
    answers = fields.Integer()


class ThemeSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    words = fields.List(fields.String())
    language = fields.String()
    count = fields.Integer()
    share = fields.Float()
    weighted_share = fields.Float(allow_none=True)
    quotes = fields.List(fields.Dict(), metadata={"description": "answer id and text"})


class QuestionThemesSchema(Schema):
    survey_id = fields.Integer()
    question_code = fields.String()
    question_text = fields.String()
    run = fields.Nested(RunSchema, allow_none=True)
    themes = fields.List(fields.Nested(ThemeSchema))


class StartedSchema(Schema):
    runs = fields.List(fields.Nested(RunSchema))


class EditSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(
        ("rename", "merge", "split", "move", "no_quote")))
    theme_ids = fields.List(fields.Integer(validate=DB_ID), load_default=list,
                            validate=validate.Length(max=20))
    answer_id = fields.Integer(validate=DB_ID, load_default=None, allow_none=True)
    label = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class AnswerSchema(Schema):
    id = fields.Integer()
    text = fields.String()


class ThemeAnswersSchema(Schema):
    theme = fields.Nested(ThemeSchema)
    answers = fields.List(fields.Nested(AnswerSchema))


def _actor() -> str:
    return current_actor().actor


@themes_blp.route("/<int:survey_id>/themes")
class SurveyThemeRuns(MethodView):
    decorators = [require_role(*STEERS)]

    @themes_blp.response(202, StartedSchema)
    def post(self, survey_id):
        """Find the themes of each free-text question again, in the background"""
        return use.runs_view(use.start_runs(get_session(), bus(), agency=current_caller().agency,
                                            survey_id=survey_id, actor=_actor()))


@themes_blp.route("/<int:survey_id>/questions/<code>/themes")
class QuestionThemes(MethodView):
    decorators = [require_role(*STEERS)]

    @themes_blp.response(200, QuestionThemesSchema)
    def get(self, survey_id, code):
        """A free-text question's themes as they stand, with the latest run's progress"""
        return use.themes_view(use.question_themes(
            get_session(), agency=current_caller().agency, survey_id=survey_id, code=code))


@themes_blp.route("/<int:survey_id>/questions/<code>/themes/edits")
class QuestionThemeEdits(MethodView):
    decorators = [require_role(*STEERS)]

    @themes_blp.arguments(EditSchema)
    @themes_blp.response(200, QuestionThemesSchema)
    def post(self, edit, survey_id, code):
        """Rename, merge or split themes, move an answer, or mark one not to be quoted"""
        return use.themes_view(use.edit_themes(
            get_session(), bus(), agency=current_caller().agency, survey_id=survey_id,
            code=code, actor=_actor(), threshold=current_app.config["SMALL_CELL_THRESHOLD"],
            **edit))


@themes_blp.route("/<int:survey_id>/questions/<code>/themes/<int:theme_id>/answers")
class ThemeAnswers(MethodView):
    decorators = [require_role(*STEERS)]

    @themes_blp.response(200, ThemeAnswersSchema)
    def get(self, survey_id, code, theme_id):
        """One theme's answers, strongest first (to move one or keep it from quotes)"""
        return use.answers_view(*use.theme_answers(
            get_session(), agency=current_caller().agency, survey_id=survey_id, code=code,
            theme_id=theme_id))
