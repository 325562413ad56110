"""The panel's JSON API: members, consent, erasure and access, imports, targets, campaigns,
representativeness and the delivery log, for panel managers."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from services.panel.campaigns import campaign_report, new_code
from services.panel.consent import opt_out_of_agency, set_consent
from services.panel.erasure import erase_member, subject_access_export
from services.panel.members import DuplicateMember, add_member
from services.panel.models import Campaign, Delivery, Member, MemberImport
from services.panel.representativeness import disclosed_report, report
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
from services.panel.targets import (
    TargetsInvalid,
    import_targets,
    margins_from_db,
    member_counts,
    parse_targets,
    target_columns,
)
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


def _member_or_404(member_ref) -> Member:
    member = get_session().scalar(select(Member).where(
        Member.member_ref == str(member_ref), Member.status != "erased"))
    if member is None:
        abort(404, message="No such member.")
    return member


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
        return page_of(get_session(), select(Member).where(Member.status != "erased")
                       .order_by(Member.id.desc()), pagination_parameters)

    @members_blp.arguments(MemberCreateSchema)
    @members_blp.response(201, MemberSchema)
    def post(self, data):
        """Add a member to the panel"""
        session = get_session()
        try:
            member = add_member(session, data=data, source="api",
                                allow_drama_range=current_app.config["ALLOW_DRAMA_NUMBERS"])
        except DuplicateMember as exc:
            abort(409, message=str(exc), errors={"json": {exc.field: [str(exc)]}})
        session.commit()
        return member


@members_blp.route("/<uuid:member_ref>")
class MemberByRef(MethodView):
    decorators = [require_role("panel_manager")]

    @members_blp.response(200, MemberSchema)
    def get(self, member_ref):
        """Read one member"""
        return _member_or_404(member_ref)

    @members_blp.response(204)
    def delete(self, member_ref):
        """Erase a member: personal data removed, contact log anonymised, other services told"""
        session = get_session()
        erase_member(session, bus(), _member_or_404(member_ref), utcnow())
        session.commit()


@members_blp.route("/<uuid:member_ref>/export")
@require_role("panel_manager")
@members_blp.response(200)
def export_member(member_ref):
    """Subject access: everything held on the member, as JSON"""
    return subject_access_export(get_session(), _member_or_404(member_ref))


@members_blp.route("/<uuid:member_ref>/consent", methods=["PATCH"])
@require_role("panel_manager")
@members_blp.arguments(ConsentChangeSchema)
@members_blp.response(200, MemberSchema)
def change_consent(data, member_ref):
    """Grant or withdraw consent for a purpose; the time and source are recorded"""
    session = get_session()
    member = _member_or_404(member_ref)
    for purpose in ("surveys", "outcomes", "recontact"):
        if purpose in data and getattr(member, f"consent_{purpose}") != data[purpose]:
            set_consent(session, member, purpose, data[purpose], source=data["source"],
                        agency=current_caller().agency)
    session.commit()
    return member


@members_blp.route("/<uuid:member_ref>/agency-opt-outs", methods=["POST"])
@require_role("panel_manager")
@members_blp.arguments(AgencyOptOutSchema)
@members_blp.response(201, MemberSchema)
def agency_opt_out(data, member_ref):
    """Record that the member wants nothing from one agency"""
    session = get_session()
    member = _member_or_404(member_ref)
    opt_out_of_agency(session, member, data["agency"], source=f"api:{current_caller().agency}")
    session.commit()
    return member


@imports_blp.route("")
class Imports(MethodView):
    decorators = [require_role("panel_manager")]

    @imports_blp.doc(requestBody=csv_upload_body(import_columns()))
    @imports_blp.response(202, MemberImportSchema)
    def post(self):
        """Start a bulk CSV import; it runs on panel's worker, follow it on its own URL

        The columns are those of docs/panel-imports.md; every bad row is reported."""
        session = get_session()
        upload = request.files.get("file")
        run = MemberImport(agency=current_caller().agency, body=_uploaded_text(),
                           filename=(upload.filename if upload else "") or "")
        session.add(run)
        session.flush()
        bus().send(session, "panel.import_members", {"import_id": run.id})
        session.commit()
        return run

    @imports_blp.response(200, MemberImportSchema(many=True))
    @imports_blp.paginate()
    def get(self, pagination_parameters):
        """List this agency's imports, newest first"""
        return page_of(get_session(), select(MemberImport).where(
            MemberImport.agency == current_caller().agency).order_by(MemberImport.id.desc()),
            pagination_parameters)


@imports_blp.route("/<int:import_id>")
@require_role("panel_manager")
@imports_blp.response(200, MemberImportSchema)
def get_import(import_id):
    """An import's progress and every bad row (line, field, reason)"""
    run = get_session().get(MemberImport, import_id)
    if run is None or run.agency != current_caller().agency:
        abort(404, message="No such import.")
    return run


@targets_blp.route("", methods=["POST"])
@require_role("panel_manager", "admin")
@targets_blp.response(201)
@targets_blp.doc(requestBody=csv_upload_body(target_columns()))
def post_targets():
    """Import census margins (CSV: vintage, area, optional area_name, dimension, category,
    population; docs/population-targets.md)"""
    session = get_session()
    try:
        population = parse_targets(_uploaded_text())
    except TargetsInvalid as exc:
        abort(422, message=str(exc), errors={"file": exc.errors})
    stored = import_targets(session, bus(), population)
    session.commit()
    return {"vintage": population.vintage, "areas": len(population.areas),
            "named_areas": len(population.area_names), "targets": stored}, 201


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
        session = get_session()
        code = data["code"] or new_code()
        if session.scalar(select(Campaign).where(Campaign.code == code)) is not None:
            abort(409, message="That code is taken.",
                  errors={"json": {"code": ["That code is taken."]}})
        campaign = Campaign(agency=current_caller().agency, name=data["name"], code=code,
                            target_group=data["target_group"], cost=data["cost"])
        session.add(campaign)
        session.commit()
        return campaign

    @campaigns_blp.response(200, CampaignSchema(many=True))
    @campaigns_blp.paginate()
    def get(self, pagination_parameters):
        """List this agency's campaigns"""
        return page_of(get_session(), select(Campaign).where(
            Campaign.agency == current_caller().agency).order_by(Campaign.id.desc()),
            pagination_parameters)


@campaigns_blp.route("/<int:campaign_id>/report")
@require_role("panel_manager", "analyst")
@campaigns_blp.response(200)
def get_campaign_report(campaign_id):
    """Recruits, yield in the target group vs overall, cost per recruit"""
    session = get_session()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.agency != current_caller().agency:
        abort(404, message="No such campaign.")
    return campaign_report(session, campaign)


def _threshold(args) -> float:
    return args["threshold"] or current_app.config["UNDER_REPRESENTED_RATIO"]


def _filter_report(result: dict, args) -> dict:
    keep = [r for r in result["rows"] if (not args["area"] or r["area"] == args["area"])
            and (not args["dimension"] or r["dimension"] == args["dimension"])]
    under = [r for r in result["under_represented"] if r in keep]
    return {**result, "rows": keep, "under_represented": under}


def panel_report(args) -> dict:
    session = get_session()
    margins = margins_from_db(session)
    return _filter_report(report(margins, member_counts(session), _threshold(args)), args)


@representativeness_blp.route("", methods=["GET"])
@require_role("panel_manager", "analyst", "officer", "admin")
@representativeness_blp.response(200)
@representativeness_blp.arguments(RepresentativenessQuerySchema, location="query")
def panel_representativeness(args):
    """The panel against the census: shares, ratios, gaps; under-represented groups ranked"""
    return panel_report(args)


@representativeness_blp.route("/respondents", methods=["POST"])
@require_role("panel_manager", "analyst", "officer", "admin")
@representativeness_blp.response(200)
@representativeness_blp.arguments(RespondentsSchema)
@representativeness_blp.arguments(RepresentativenessQuerySchema, location="query")
def respondents_representativeness(body, args):
    """The same report for a survey's respondents, small groups hidden"""
    session = get_session()
    refs = [str(r) for r in body["member_refs"]]
    counts: dict = {}
    for start in range(0, len(refs), 1000):
        part = member_counts(session, Member.member_ref.in_(refs[start:start + 1000]))
        for area, dims in part.items():
            for dim, cats in dims.items():
                for cat, n in cats.items():
                    slot = counts.setdefault(area, {}).setdefault(dim, {})
                    slot[cat] = slot.get(cat, 0) + n
    result = report(margins_from_db(session), counts, _threshold(args))
    # Refs name people: without the small-cell rule one ref would return its profile.
    return _filter_report(
        disclosed_report(result, current_app.config["SMALL_CELL_THRESHOLD"]), args)


@deliveries_blp.route("")
class Deliveries(MethodView):
    decorators = [require_role("panel_manager")]

    @deliveries_blp.arguments(DeliveryQuerySchema, location="query")
    @deliveries_blp.response(200, DeliverySchema(many=True))
    @deliveries_blp.paginate()
    def get(self, args, pagination_parameters):
        """List deliveries, newest first; `status` narrows them to one status"""
        query = select(Delivery).order_by(Delivery.id.desc())
        if args.get("status"):
            query = query.where(Delivery.status == args["status"])
        return page_of(get_session(), query, pagination_parameters)
