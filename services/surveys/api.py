"""The surveys JSON API: agencies, and surveys scoped to the agencies that sponsor them."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from services.surveys import builder, keys, lifecycle, queries
from services.surveys.fieldwork import remind_now, sponsored_monitor, top_up_sponsored
from services.surveys.joint import answer_agency_invitation, ask_to_join, decide_on_request
from services.surveys.overlap import overlaps_of
from services.surveys.question_bank import add_bank_question, bank_results
from services.surveys.role_rules import RoleRules
from services.surveys.schemas import (
    AgencySchema,
    ApiKeyInputSchema,
    ApiKeySchema,
    BankListQuerySchema,
    BankQuestionSchema,
    DraftStartSchema,
    InvitationAnswerSchema,
    InvitationSchema,
    JoinDecisionSchema,
    JoinRequestInputSchema,
    JoinRequestSchema,
    MonitorSchema,
    OverlapSchema,
    QuestionDefinitionSchema,
    QuestionInputSchema,
    QuestionMoveSchema,
    RemindedSchema,
    ResultsSchema,
    SurveyCreateSchema,
    SurveyListQuerySchema,
    SurveySchema,
    survey_changes_schema,
)
from shared.audit import current_actor
from shared.auth import current_caller, require_role
from shared.bus import utcnow
from shared.db import get_session, page_of
from shared.service import bus

agencies_blp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies",
                         description="The partner agencies.")
surveys_blp = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys",
                        description="Surveys, visible to the agencies that sponsor them.")
keys_blp = Blueprint("keys", __name__, url_prefix="/api/v1/keys",
                     description="Your agency's users: API keys with a role each.")
bank_blp = Blueprint("question_bank", __name__, url_prefix="/api/v1/question-bank",
                     description="Shared questions with stable codes, reused by any agency.")

WRITERS = ("admin", "officer")


def agency() -> str:
    return current_caller().agency


@agencies_blp.route("")
class Agencies(MethodView):
    decorators = [require_role()]

    @agencies_blp.response(200, AgencySchema(many=True))
    def get(self):
        """List the partner agencies"""
        return queries.agencies(get_session())


@surveys_blp.route("")
class Surveys(MethodView):
    decorators = [require_role()]

    @surveys_blp.arguments(SurveyListQuerySchema, location="query")
    @surveys_blp.response(200, SurveySchema(many=True))
    @surveys_blp.paginate()
    def get(self, query, pagination_parameters):
        """List the surveys your agency sponsors"""
        return page_of(get_session(), queries.sponsored_surveys(agency(), query["status"]),
                       pagination_parameters)

    @require_role(*WRITERS)
    @surveys_blp.arguments(SurveyCreateSchema)
    @surveys_blp.response(201, SurveySchema)
    def post(self, data):
        """Draft a survey, led by your agency"""
        return lifecycle.draft(get_session(), data=data, agency=agency())


@surveys_blp.route("/<int:survey_id>")
class SurveyById(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, SurveySchema)
    def get(self, survey_id):
        """Read a survey your agency sponsors"""
        return queries.sponsored_survey(get_session(), agency=agency(), survey_id=survey_id)

    @require_role(*WRITERS)
    @surveys_blp.arguments(survey_changes_schema())
    @surveys_blp.response(200, SurveySchema)
    def patch(self, data, survey_id):
        """Change a draft's details (its lead agency only), checked as the whole draft"""
        return builder.update_details(get_session(), agency=agency(), survey_id=survey_id,
                                      changes=data)


@surveys_blp.route("/drafts")
class SurveyDrafts(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(DraftStartSchema)
    @surveys_blp.response(201, SurveySchema)
    def post(self, data):
        """Start a draft to build in steps: blank with a title, or a copy of a survey your
        agency sponsors (same details and questions, your agency its only sponsor)"""
        return builder.new_draft(get_session(), agency=agency(), data=data)


@surveys_blp.route("/<int:survey_id>/questions")
class SurveyQuestions(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(QuestionInputSchema)
    @surveys_blp.response(201, SurveySchema)
    def post(self, data, survey_id):
        """Add a question at the end of a draft: your own, or one from the bank by bank_code"""
        return builder.add_question(get_session(), agency=agency(), survey_id=survey_id,
                                    question=data)


@surveys_blp.route("/<int:survey_id>/questions/<code>")
class SurveyQuestionByCode(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(QuestionInputSchema)
    @surveys_blp.response(200, SurveySchema)
    def put(self, data, survey_id, code):
        """Replace a draft's question in its place"""
        return builder.edit_question(get_session(), agency=agency(), survey_id=survey_id,
                                     code=code, question=data)

    @surveys_blp.response(200, SurveySchema)
    def delete(self, survey_id, code):
        """Remove a question from a draft; no later question may be shown by its answers"""
        return builder.remove_question(get_session(), agency=agency(), survey_id=survey_id,
                                       code=code)


@surveys_blp.route("/<int:survey_id>/questions/<code>/move")
class SurveyQuestionMove(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(QuestionMoveSchema)
    @surveys_blp.response(200, SurveySchema)
    def post(self, data, survey_id, code):
        """Move a draft's question one place up or down"""
        return builder.move_question(get_session(), agency=agency(), survey_id=survey_id,
                                     code=code, direction=data["direction"])


@surveys_blp.route("/<int:survey_id>/launch")
class SurveyLaunch(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(202, SurveySchema)
    def post(self, survey_id):
        """Launch a draft (its lead agency only): the panel draws the sample, invitations go out"""
        return lifecycle.launch(get_session(), bus(), actor=current_actor(),
                                survey_id=survey_id, today=date.today())


@surveys_blp.route("/<int:survey_id>/close")
class SurveyClose(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(200, SurveySchema)
    def post(self, survey_id):
        """Close fieldwork (its lead agency only) and hand the results to feedback"""
        return lifecycle.close(get_session(), bus(), actor=current_actor(), survey_id=survey_id)


@surveys_blp.route("/<int:survey_id>/results")
class SurveyResults(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, ResultsSchema)
    def get(self, survey_id):
        """Counts per question, for the survey's sponsors"""
        return lifecycle.sponsored_results(get_session(), agency=agency(), survey_id=survey_id)


@surveys_blp.route("/<int:survey_id>/overlaps")
class SurveyOverlaps(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, OverlapSchema(many=True))
    def get(self, survey_id):
        """Other agencies' surveys in the same areas and time with overlapping topics"""
        return overlaps_of(get_session(), agency=agency(), survey_id=survey_id)


@surveys_blp.route("/<int:survey_id>/fieldwork")
class SurveyFieldwork(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, MonitorSchema)
    def get(self, survey_id):
        """The fieldwork monitor: invited, delivered, started, completed, rates, quota cells"""
        return sponsored_monitor(get_session(), agency=agency(), survey_id=survey_id)


@surveys_blp.route("/<int:survey_id>/top-up")
class SurveyTopUp(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(202, MonitorSchema)
    def post(self, survey_id):
        """Ask panel for more members in the quota cells behind target"""
        return top_up_sponsored(get_session(), bus(), agency=agency(), survey_id=survey_id)


@surveys_blp.route("/<int:survey_id>/reminders")
class SurveyReminders(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(202, RemindedSchema)
    def post(self, survey_id):
        """Remind now everyone invited who has not completed (full quota cells apart)"""
        return {"reminded": remind_now(
            get_session(), bus(), agency=agency(), survey_id=survey_id, now=utcnow(),
            surveys_url=current_app.config["SURVEYS_URL"],
            batch_size=current_app.config["DELIVERY_BATCH_SIZE"])}


@surveys_blp.route("/<int:survey_id>/join-requests")
class SurveyJoinRequests(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, JoinRequestSchema(many=True))
    def get(self, survey_id):
        """Requests to co-sponsor this survey (its sponsors see them)"""
        return queries.join_requests(get_session(), agency=agency(), survey_id=survey_id)

    @require_role(*WRITERS)
    @surveys_blp.arguments(JoinRequestInputSchema)
    @surveys_blp.response(201, JoinRequestSchema)
    def post(self, data, survey_id):
        """Ask to co-sponsor a draft (one an overlap warning offered), with your own questions"""
        return ask_to_join(get_session(), agency=agency(), survey_id=survey_id, data=data)


@surveys_blp.route("/<int:survey_id>/join-requests/<int:request_id>/decision")
class SurveyJoinDecision(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(JoinDecisionSchema)
    @surveys_blp.response(200, SurveySchema)
    def post(self, data, survey_id, request_id):
        """The lead agency approves (setting every cost share) or refuses a request to join"""
        return decide_on_request(get_session(), agency=agency(), survey_id=survey_id,
                                 request_id=request_id, approve=data["approve"],
                                 sponsors=data["sponsors"])


@surveys_blp.route("/invitations")
class SponsorInvitations(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, InvitationSchema(many=True))
    def get(self):
        """Invitations to your agency to co-sponsor other agencies' drafts, newest first"""
        return queries.invitations_to(get_session(), agency=agency())


@surveys_blp.route("/invitations/<int:invitation_id>/answer")
class SponsorInvitationAnswer(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(InvitationAnswerSchema)
    @surveys_blp.response(200, InvitationSchema)
    def post(self, data, invitation_id):
        """Accept (becoming a sponsor at the proposed share) or decline an invitation"""
        return answer_agency_invitation(get_session(), agency=agency(),
                                        invitation_id=invitation_id, accept=data["accept"])


@keys_blp.route("")
class Keys(MethodView):
    decorators = [require_role("admin")]

    @keys_blp.response(200, ApiKeySchema(many=True))
    def get(self):
        """Your agency's keys (users), newest first; the keys themselves are never shown again"""
        return queries.keys_of(get_session(), agency=agency())

    @keys_blp.arguments(ApiKeyInputSchema)
    @keys_blp.response(201, ApiKeySchema)
    def post(self, data):
        """Issue a key for your agency; the key is in this answer only"""
        return keys.issue(get_session(), bus(), RoleRules.from_config(current_app.config),
                          current_actor(), agency=agency(), role=data["role"],
                          label=data["label"])


@keys_blp.route("/<key_prefix>")
class KeyByPrefix(MethodView):
    decorators = [require_role("admin")]

    @keys_blp.response(204)
    def delete(self, key_prefix):
        """Revoke one of your agency's keys by its prefix"""
        keys.revoke(get_session(), bus(), current_actor(), key_prefix=key_prefix,
                    agency=agency())


@bank_blp.route("")
class Bank(MethodView):
    decorators = [require_role()]

    @bank_blp.arguments(BankListQuerySchema, location="query")
    @bank_blp.response(200, BankQuestionSchema(many=True))
    def get(self, query):
        """The shared questions, for any agency to reuse by code"""
        return queries.bank_questions(get_session(), search=query["search"])

    @require_role(*WRITERS)
    @bank_blp.arguments(QuestionDefinitionSchema)
    @bank_blp.response(201, BankQuestionSchema)
    def post(self, data):
        """Add a question to the bank; its code never changes meaning once there"""
        return add_bank_question(get_session(), code=data["code"], agency=agency(),
                                 definition=QuestionDefinitionSchema().dump(data))


@bank_blp.route("/<code>/results")
class BankResults(MethodView):
    decorators = [require_role()]

    @bank_blp.response(200, ResultsSchema(many=True))
    def get(self, code):
        """One bank question's results in every survey your agency sponsors, oldest first"""
        return bank_results(get_session(), agency=agency(), code=code)
