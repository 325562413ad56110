"""The surveys JSON API: agencies, and surveys scoped to the agencies that sponsor them."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.surveys.fieldwork import monitor, top_up
from services.surveys.joint import NotOpenToJoin, answer_invitation, decide, request_to_join
from services.surveys.keys import issue_key, revoke_key
from services.surveys.lifecycle import (
    SurveyRuleBroken,
    close_survey,
    create_survey,
    launch_survey,
    survey_results,
)
from services.surveys.models import (
    Agency,
    ApiKey,
    BankQuestion,
    JoinRequest,
    Question,
    Survey,
    SurveySponsor,
)
from services.surveys.overlap import find_overlaps
from services.surveys.schemas import (
    AgencySchema,
    ApiKeyInputSchema,
    ApiKeySchema,
    BankListQuerySchema,
    BankQuestionSchema,
    InvitationAnswerSchema,
    InvitationSchema,
    JoinDecisionSchema,
    JoinRequestInputSchema,
    JoinRequestSchema,
    MonitorSchema,
    OverlapSchema,
    QuestionDefinitionSchema,
    ResultsSchema,
    SurveyCreateSchema,
    SurveyListQuerySchema,
    SurveySchema,
)
from shared.auth import current_caller, hash_api_key, require_role
from shared.db import get_session, page_of
from shared.errors import refuse
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


def sponsored_by(agency: str):
    return (
        select(Survey)
        .where(Survey.id.in_(select(SurveySponsor.survey_id).where(SurveySponsor.agency == agency)))
        .options(selectinload(Survey.sponsors), selectinload(Survey.questions),
                 selectinload(Survey.join_requests))
    )


def sponsored_survey_or_404(session: Session, survey_id: int) -> Survey:
    """The survey when the caller's agency sponsors it; otherwise as if it did not exist."""
    survey = session.scalar(sponsored_by(current_caller().agency).where(Survey.id == survey_id))
    if survey is None:
        abort(404, message="No such survey.")
    return survey


def led_survey_or_404(session: Session, survey_id: int, doing: str) -> Survey:
    """The survey when the caller's agency leads it: 403 for a co-sponsor, 404 for the rest.

    Only the lead agency launches and closes: a co-sponsor agreed to a share of the lead's
    survey, not to decide when it starts or stops.
    """
    survey = sponsored_survey_or_404(session, survey_id)
    if survey.lead_agency != current_caller().agency:
        lead = session.get(Agency, survey.lead_agency)
        abort(403, message=f"Only the lead agency, {lead.name}, {doing} this survey; your "
                           "agency co-sponsors it.")
    return survey


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
        survey.overlaps = find_overlaps(session, survey, current_caller().agency)
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
        """Launch a draft (its lead agency only): the panel draws the sample, invitations go out"""
        session = get_session()
        survey = led_survey_or_404(session, survey_id, "launches")
        try:
            launch_survey(session, bus(), survey, date.today())
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        survey.overlaps = find_overlaps(session, survey, current_caller().agency)
        return survey


@surveys_blp.route("/<int:survey_id>/close")
class SurveyClose(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(200, SurveySchema)
    def post(self, survey_id):
        """Close fieldwork (its lead agency only) and hand the results to feedback"""
        session = get_session()
        survey = led_survey_or_404(session, survey_id, "closes")
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


@surveys_blp.route("/<int:survey_id>/overlaps")
class SurveyOverlaps(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, OverlapSchema(many=True))
    def get(self, survey_id):
        """Other agencies' surveys in the same areas and time with overlapping topics"""
        session = get_session()
        survey = sponsored_survey_or_404(session, survey_id)
        return find_overlaps(session, survey, current_caller().agency)


@surveys_blp.route("/<int:survey_id>/fieldwork")
class SurveyFieldwork(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, MonitorSchema)
    def get(self, survey_id):
        """The fieldwork monitor: invited, delivered, started, completed, rates, quota cells"""
        session = get_session()
        return monitor(session, sponsored_survey_or_404(session, survey_id))


@surveys_blp.route("/<int:survey_id>/top-up")
class SurveyTopUp(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.response(202, MonitorSchema)
    def post(self, survey_id):
        """Ask panel for more members in the quota cells behind target"""
        session = get_session()
        survey = sponsored_survey_or_404(session, survey_id)
        if survey.status != "fieldwork":
            abort(409, message="Only a survey in fieldwork can be topped up.",
                  errors={"json": {"status": [survey.status]}})
        if not survey.quotas:
            abort(409, message="This survey has no quotas to top up.",
                  errors={"json": {"quotas": ["none set"]}})
        top_up(session, bus(), survey)
        session.commit()
        return monitor(session, survey)


def _no_such_survey():
    abort(404, message="No such survey.")


@surveys_blp.route("/<int:survey_id>/join-requests")
class SurveyJoinRequests(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, JoinRequestSchema(many=True))
    def get(self, survey_id):
        """Requests to co-sponsor this survey (its sponsors see them)"""
        session = get_session()
        sponsored_survey_or_404(session, survey_id)
        return session.scalars(select(JoinRequest).where(JoinRequest.survey_id == survey_id)
                               .order_by(JoinRequest.id)).all()

    @surveys_blp.arguments(JoinRequestInputSchema)
    @surveys_blp.response(201, JoinRequestSchema)
    def post(self, data, survey_id):
        """Ask to co-sponsor a draft (one an overlap warning offered), with your own questions"""
        if current_caller().role not in WRITERS:
            abort(403, message="Only officers and admins ask to join surveys.")
        session = get_session()
        # Any agency may ask to join a draft open to joining (overlaps offer them); it still
        # cannot read it. Any other survey answers as if it did not exist.
        survey = session.get(Survey, survey_id)
        if survey is None:
            _no_such_survey()
        try:
            request = request_to_join(session, survey, current_caller().agency, data)
        except NotOpenToJoin:
            _no_such_survey()
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return request


@surveys_blp.route("/<int:survey_id>/join-requests/<int:request_id>/decision")
class SurveyJoinDecision(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(JoinDecisionSchema)
    @surveys_blp.response(200, SurveySchema)
    def post(self, data, survey_id, request_id):
        """The lead agency approves (setting every cost share) or refuses a request to join"""
        session = get_session()
        survey = sponsored_survey_or_404(session, survey_id)
        if survey.lead_agency != current_caller().agency:
            abort(403, message="Only the lead agency decides who joins.")
        request = session.get(JoinRequest, request_id)
        if request is None or request.survey_id != survey.id or request.kind != "request":
            abort(404, message="No such request.")
        try:
            decide(session, survey, request, approve=data["approve"], sponsors=data["sponsors"])
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return survey


@surveys_blp.route("/invitations")
class SponsorInvitations(MethodView):
    decorators = [require_role()]

    @surveys_blp.response(200, InvitationSchema(many=True))
    def get(self):
        """Invitations to your agency to co-sponsor other agencies' drafts, newest first"""
        return get_session().scalars(
            select(JoinRequest).where(JoinRequest.kind == "invitation",
                                      JoinRequest.agency == current_caller().agency)
            .options(selectinload(JoinRequest.survey)).order_by(JoinRequest.id.desc())).all()


@surveys_blp.route("/invitations/<int:invitation_id>/answer")
class SponsorInvitationAnswer(MethodView):
    decorators = [require_role(*WRITERS)]

    @surveys_blp.arguments(InvitationAnswerSchema)
    @surveys_blp.response(200, InvitationSchema)
    def post(self, data, invitation_id):
        """Accept (becoming a sponsor at the proposed share) or decline an invitation"""
        session = get_session()
        invitation = session.get(JoinRequest, invitation_id)
        if invitation is None or invitation.kind != "invitation" \
                or invitation.agency != current_caller().agency:
            abort(404, message="No such invitation.")
        try:
            answer_invitation(invitation.survey, invitation, accept=data["accept"])
        except SurveyRuleBroken as exc:
            refuse(exc)
        session.commit()
        return invitation


@keys_blp.route("")
class Keys(MethodView):
    decorators = [require_role("admin")]

    @keys_blp.response(200, ApiKeySchema(many=True))
    def get(self):
        """Your agency's keys (users), newest first; the keys themselves are never shown again"""
        return get_session().scalars(select(ApiKey).where(
            ApiKey.agency == current_caller().agency).order_by(ApiKey.id.desc())).all()

    @keys_blp.arguments(ApiKeyInputSchema)
    @keys_blp.response(201, ApiKeySchema)
    def post(self, data):
        """Issue a key for your agency; the key is in this answer only"""
        session = get_session()
        key = issue_key(session, bus(), agency=current_caller().agency, role=data["role"],
                        label=data["label"])
        session.commit()
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
        row.key = key  # shown in this answer only; never stored
        return row


@keys_blp.route("/<key_prefix>")
class KeyByPrefix(MethodView):
    decorators = [require_role("admin")]

    @keys_blp.response(204)
    def delete(self, key_prefix):
        """Revoke one of your agency's keys by its prefix"""
        session = get_session()
        owned = session.scalar(select(ApiKey.id).where(
            ApiKey.key_prefix == key_prefix, ApiKey.agency == current_caller().agency,
            ApiKey.revoked_at.is_(None)))
        if owned is None:
            abort(404, message="No such key in your agency.")
        revoke_key(session, bus(), key_prefix=key_prefix)
        session.commit()


@bank_blp.route("")
class Bank(MethodView):
    decorators = [require_role()]

    @bank_blp.arguments(BankListQuerySchema, location="query")
    @bank_blp.response(200, BankQuestionSchema(many=True))
    def get(self, query):
        """The shared questions, for any agency to reuse by code"""
        statement = select(BankQuestion).order_by(BankQuestion.code)
        if query["search"]:
            statement = statement.where(BankQuestion.code.contains(query["search"].lower()))
        return get_session().scalars(statement).all()

    @bank_blp.arguments(QuestionDefinitionSchema)
    @bank_blp.response(201, BankQuestionSchema)
    def post(self, data):
        """Add a question to the bank; its code never changes meaning once there"""
        if current_caller().role not in WRITERS:
            abort(403, message="Only officers and admins add to the question bank.")
        session = get_session()
        if session.get(BankQuestion, data["code"]) is not None:
            abort(409, message="That code is taken in the question bank.",
                  errors={"json": {"code": [f"{data['code']} exists already."]}})
        row = BankQuestion(code=data["code"], definition=QuestionDefinitionSchema().dump(data),
                           agency=current_caller().agency)
        session.add(row)
        session.commit()
        return row


@bank_blp.route("/<code>/results")
class BankResults(MethodView):
    decorators = [require_role()]

    @bank_blp.response(200, ResultsSchema(many=True))
    def get(self, code):
        """One bank question's results in every survey your agency sponsors, oldest first"""
        session = get_session()
        if session.get(BankQuestion, code) is None:
            abort(404, message="No such question in the bank.")
        surveys = session.scalars(
            sponsored_by(current_caller().agency)
            .where(Survey.id.in_(select(Question.survey_id).where(Question.bank_code == code)))
            .order_by(Survey.id)).all()
        results = []
        for survey in surveys:
            found = survey_results(session, survey)
            found["questions"] = [q for q in found["questions"] if q["code"] == code]
            results.append(found)
        return results
