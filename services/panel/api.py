"""The panel's JSON API: members, consent, erasure and access, imports, targets, campaigns,
representativeness and the delivery log, for panel managers."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.panel import consent, queries
from services.panel.campaigns import agency_campaign_report, start_campaign
from services.panel.erasure import access_export, forget_member
from services.panel.imports import start_import
from services.panel.members import add_panel_member
from services.panel.schemas import (
    AgencyOptOutSchema,
    CampaignCreateSchema,
    CampaignSchema,
    ConsentChangeSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    MemberCreateSchema,
    MemberImportSchema,
    MemberSchema,
    RepresentativenessQuerySchema,
    RespondentsSchema,
    csv_upload_body,
    import_columns,
)
from services.panel.targets import import_targets, margins_from_db, target_columns
from shared.audit import current_actor
from shared.auth import current_caller, require_role
from shared.bus import utcnow
from shared.db import get_session, page_of
from shared.service import bus

members_blp = Blueprint("members", __name__, url_prefix="/api/v1/members",
                        description="Panel members (personal data stays in this service).")
deliveries_blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries",
                           description="The contact log of every message sent.")
imports_blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports",
                        description="Bulk CSV imports of an existing panel.")
targets_blp = Blueprint("targets", __name__, url_prefix="/api/v1/population-targets",
                        description="Census margins per area and dimension.")
campaigns_blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns",
                          description="Recruitment campaigns aimed at groups.")
representativeness_blp = Blueprint(
    "representativeness", __name__, url_prefix="/api/v1/representativeness",
    description="How far the panel, or a survey's respondents, looks like the place.")

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _uploaded_text(field: str = "file") -> str:
    """The CSV from a multipart upload or a text/csv body, as text."""
    upload = request.files.get(field)
    raw = upload.read(MAX_UPLOAD_BYTES + 1) if upload else request.get_data()
    if not raw:
        abort(422, message="Send a CSV file.", errors={"files": {field: ["Send a CSV file."]}})
    if len(raw) > MAX_UPLOAD_BYTES:
        abort(413, message="The file is too big (20 MB at most).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        abort(422, message="The file must be UTF-8 text.",
              errors={"files": {field: ["The file must be UTF-8 text."]}})
    if "\x00" in text:  # no database column can hold it
        abort(422, message="The file must not contain NUL characters.",
              errors={"files": {field: ["The file must not contain NUL characters."]}})
    return text


@members_blp.route("")
class Members(MethodView):
    decorators = [require_role("panel_manager")]

    @members_blp.response(200, MemberSchema(many=True))
    @members_blp.paginate()
    def get(self, pagination_parameters):
        """List panel members, newest first"""
        return page_of(get_session(), queries.members(), pagination_parameters)

    @members_blp.arguments(MemberCreateSchema)
    @members_blp.response(201, MemberSchema)
    def post(self, data):
        """Add a member to the panel"""
        return add_panel_member(get_session(), data=data, source="api",
                                allow_drama_range=current_app.config["ALLOW_DRAMA_NUMBERS"])


@members_blp.route("/<uuid:member_ref>")
class MemberByRef(MethodView):
    decorators = [require_role("panel_manager")]

    @members_blp.response(200, MemberSchema)
    def get(self, member_ref):
        """Read one member"""
        return queries.panel_member(get_session(), member_ref)

    @members_blp.response(204)
    def delete(self, member_ref):
        """Erase a member: personal data removed, contact log anonymised, other services told"""
        forget_member(get_session(), bus(), current_actor(), member_ref=str(member_ref),
                      now=utcnow())


@members_blp.route("/<uuid:member_ref>/export")
@require_role("panel_manager")
@members_blp.response(200)
def export_member(member_ref):
    """Subject access: everything held on the member, as JSON"""
    return access_export(get_session(), member_ref=str(member_ref))


@members_blp.route("/<uuid:member_ref>/consent", methods=["PATCH"])
@require_role("panel_manager")
@members_blp.arguments(ConsentChangeSchema)
@members_blp.response(200, MemberSchema)
def change_consent(data, member_ref):
    """Grant or withdraw consent for a purpose; the time and source are recorded"""
    return consent.change_consent(get_session(), member_ref=str(member_ref), changes=data,
                                  agency=current_caller().agency)


@members_blp.route("/<uuid:member_ref>/agency-opt-outs", methods=["POST"])
@require_role("panel_manager")
@members_blp.arguments(AgencyOptOutSchema)
@members_blp.response(201, MemberSchema)
def agency_opt_out(data, member_ref):
    """Record that the member wants nothing from one agency"""
    return consent.record_agency_opt_out(
        get_session(), member_ref=str(member_ref), agency=data["agency"],
        caller_agency=current_caller().agency)


@imports_blp.route("")
class Imports(MethodView):
    decorators = [require_role("panel_manager")]

    @imports_blp.doc(requestBody=csv_upload_body(import_columns()))
    @imports_blp.response(202, MemberImportSchema)
    def post(self):
        """Start a bulk CSV import; it runs on panel's worker, follow it on its own URL

        The columns are those of docs/panel-imports.md; every bad row is reported."""
        upload = request.files.get("file")
        return start_import(get_session(), bus(), agency=current_caller().agency,
                            body=_uploaded_text(),
                            filename=(upload.filename if upload else "") or "")

    @imports_blp.response(200, MemberImportSchema(many=True))
    @imports_blp.paginate()
    def get(self, pagination_parameters):
        """List this agency's imports, newest first"""
        return page_of(get_session(), queries.imports_of(current_caller().agency),
                       pagination_parameters)


@imports_blp.route("/<int:import_id>")
@require_role("panel_manager")
@imports_blp.response(200, MemberImportSchema)
def get_import(import_id):
    """An import's progress and every bad row (line, field, reason)"""
    return queries.agency_import(get_session(), agency=current_caller().agency,
                                 import_id=import_id)


@targets_blp.route("", methods=["POST"])
@require_role("panel_manager", "admin")
@targets_blp.response(201)
@targets_blp.doc(requestBody=csv_upload_body(target_columns()))
def post_targets():
    """Import census margins (CSV: vintage, area, optional area_name, dimension, category,
    population; docs/population-targets.md)"""
    return import_targets(get_session(), bus(), body=_uploaded_text()), 201


@targets_blp.route("", methods=["GET"])
@require_role("panel_manager", "admin", "analyst", "officer")
@targets_blp.response(200)
def list_targets():
    """The margins held, {area: {dimension: {category: population}}}"""
    return {"areas": margins_from_db(get_session())}


@campaigns_blp.route("")
class Campaigns(MethodView):
    decorators = [require_role("panel_manager")]

    @campaigns_blp.arguments(CampaignCreateSchema)
    @campaigns_blp.response(201, CampaignSchema)
    def post(self, data):
        """Start a recruitment campaign with its join link and SMS keyword"""
        return start_campaign(get_session(), agency=current_caller().agency, data=data)

    @campaigns_blp.response(200, CampaignSchema(many=True))
    @campaigns_blp.paginate()
    def get(self, pagination_parameters):
        """List this agency's campaigns"""
        return page_of(get_session(), queries.campaigns_of(current_caller().agency),
                       pagination_parameters)


@campaigns_blp.route("/<int:campaign_id>/report")
@require_role("panel_manager", "analyst")
@campaigns_blp.response(200)
def get_campaign_report(campaign_id):
    """Recruits, yield in the target group vs overall, cost per recruit"""
    return agency_campaign_report(get_session(), agency=current_caller().agency,
                                  campaign_id=campaign_id)


def _threshold(args) -> float:
    return args["threshold"] or current_app.config["UNDER_REPRESENTED_RATIO"]


@representativeness_blp.route("", methods=["GET"])
@require_role("panel_manager", "analyst", "officer", "admin")
@representativeness_blp.response(200)
@representativeness_blp.arguments(RepresentativenessQuerySchema, location="query")
def panel_representativeness(args):
    """The panel against the census: shares, ratios, gaps; under-represented groups ranked"""
    return queries.panel_report(get_session(), threshold=_threshold(args), area=args["area"],
                                dimension=args["dimension"])


@representativeness_blp.route("/respondents", methods=["POST"])
@require_role("panel_manager", "analyst", "officer", "admin")
@representativeness_blp.response(200)
@representativeness_blp.arguments(RespondentsSchema)
@representativeness_blp.arguments(RepresentativenessQuerySchema, location="query")
def respondents_representativeness(body, args):
    """The same report for a survey's respondents, small groups hidden"""
    return queries.respondents_report(
        get_session(), member_refs=[str(r) for r in body["member_refs"]],
        threshold=_threshold(args), small_cell_threshold=current_app.config[
            "SMALL_CELL_THRESHOLD"], area=args["area"], dimension=args["dimension"])


@deliveries_blp.route("")
class Deliveries(MethodView):
    decorators = [require_role("panel_manager")]

    @deliveries_blp.arguments(DeliveryQuerySchema, location="query")
    @deliveries_blp.response(200, DeliverySchema(many=True))
    @deliveries_blp.paginate()
    def get(self, args, pagination_parameters):
        """List deliveries, newest first; `status` narrows them to one status"""
        return page_of(get_session(), queries.deliveries(args.get("status")),
                       pagination_parameters)
