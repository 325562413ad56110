"""The panel's JSON API: members and the delivery log, for panel managers."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from services.panel.members import DuplicateMember, add_member
from services.panel.models import Delivery, Member
from services.panel.schemas import DeliverySchema, MemberCreateSchema, MemberSchema
from shared.auth import require_role
from shared.db import get_session, page_of

members_blp = Blueprint("members", __name__, url_prefix="/api/v1/members",
                        description="Panel members (personal data stays in this service).")
deliveries_blp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries",
                           description="The contact log of every message sent.")


@members_blp.route("")
class Members(MethodView):
    decorators = [require_role("panel_manager")]

    @members_blp.response(200, MemberSchema(many=True))
    @members_blp.paginate()
    def get(self, pagination_parameters):
        """List panel members, newest first"""
        return page_of(get_session(), select(Member).order_by(Member.id.desc()),
                       pagination_parameters)

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
        member = get_session().scalar(select(Member).where(Member.member_ref == str(member_ref)))
        if member is None:
            abort(404, message="No such member.")
        return member


@deliveries_blp.route("")
class Deliveries(MethodView):
    decorators = [require_role("panel_manager")]

    @deliveries_blp.response(200, DeliverySchema(many=True))
    @deliveries_blp.paginate()
    def get(self, pagination_parameters):
        """List deliveries, newest first"""
        return page_of(get_session(), select(Delivery).order_by(Delivery.id.desc()),
                       pagination_parameters)
