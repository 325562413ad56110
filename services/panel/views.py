"""Panel's pages and webhooks: joining, double opt-in, unsubscribe, inbound SMS and status."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.panel.consent import member_from_token, set_consent, withdraw_everything
from services.panel.contacts import InvalidPhoneNumber, normalise_phone
from services.panel.members import DuplicateMember, add_member
from services.panel.models import Campaign, Delivery, Member
from services.panel.representativeness import report
from services.panel.schemas import WARD_CODE
from services.panel.sms_inbound import handle_inbound
from services.panel.targets import margins_from_db, member_counts
from shared.bus import utcnow
from shared.db import get_session
from shared.profile import AGE_BANDS, DISABILITY, ETHNICITIES, GENDERS, LABELS
from shared.service import bus

pages = Blueprint("pages", __name__, template_folder="templates")

# Twilio's statuses in the order a message moves through them; terminal ones never move back.
STATUS_ORDER = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "canceled": 3}
TERMINAL = {"delivered", "undelivered", "failed", "canceled", "no_consent", "opted_out"}


class JoinFormSchema(Schema):
    """The join page's answers: every error names its field and says how to fix it."""

    email = fields.String(load_default="")
    phone = fields.String(load_default="")
    preferred_channel = fields.String(required=True, validate=validate.OneOf(
        ("email", "sms"), error="Select how you want us to contact you."),
        error_messages={"required": "Select how you want us to contact you."})
    age_band = fields.String(required=True, validate=validate.OneOf(
        AGE_BANDS, error="Select your age group."),
        error_messages={"required": "Select your age group."})
    gender = fields.String(required=True, validate=validate.OneOf(
        GENDERS, error="Select your gender."), error_messages={"required": "Select your gender."})
    ethnicity = fields.String(required=True, validate=validate.OneOf(
        ETHNICITIES, error="Select your ethnic group."),
        error_messages={"required": "Select your ethnic group."})
    disability = fields.String(required=True, validate=validate.OneOf(
        DISABILITY, error="Select whether you are disabled."),
        error_messages={"required": "Select whether you are disabled."})
    area = fields.String(required=True, validate=WARD_CODE,
                         error_messages={"required": "Enter your ward code."})
    consent_surveys = fields.String(required=True, error_messages={
        "required": "Tick the box to agree to be invited to surveys."})
    consent_outcomes = fields.String(load_default=None)
    campaign = fields.String(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def _contact(self, data, **_kwargs):
        channel = data.get("preferred_channel")
        if channel == "email":
            try:
                validate.Email()(data.get("email") or "")
            except ValidationError:
                raise ValidationError("Enter an email address in the correct format, like "
                                      "name@example.com.", "email") from None
        if channel == "sms":
            try:
                normalise_phone(data.get("phone") or "", current_app.config["ALLOW_DRAMA_NUMBERS"])
            except InvalidPhoneNumber:
                raise ValidationError("Enter a UK mobile number, like 07700 900 982.",
                                      "phone") from None


FIELD_ORDER = ("preferred_channel", "email", "phone", "age_band", "gender", "ethnicity",
               "disability", "area", "consent_surveys")


def _join_page(values: dict, errors: dict, campaign: Campaign | None, status: int = 200):
    wards = sorted(margins_from_db(get_session()))
    ordered = [(f, errors[f][0] if isinstance(errors[f], list) else str(errors[f]))
               for f in FIELD_ORDER if f in errors]
    return render_template(
        "join.html", values=values, errors=dict(ordered), ordered_errors=ordered,
        campaign=campaign, wards=wards, has_errors=bool(errors), labels=LABELS,
        age_bands=AGE_BANDS, genders=GENDERS, ethnicities=ETHNICITIES, disability=DISABILITY,
    ), status


@pages.route("/join", methods=["GET", "POST"])
def join():
    """Sign up to the panel (rate-limited per client address: see ratelimits.py)."""
    session = get_session()
    code = (request.values.get("c") or request.values.get("campaign") or "").strip().upper()
    campaign = session.scalar(select(Campaign).where(Campaign.code == code)) if code else None
    if request.method == "GET":
        return _join_page({}, {}, campaign)
    values = request.form.to_dict()
    try:
        data = JoinFormSchema().load(values, unknown="exclude")
    except ValidationError as exc:
        return _join_page(values, exc.messages, campaign, 400)
    channel = data["preferred_channel"]
    try:
        member = add_member(session, source="join-page", status="pending",
                            allow_drama_range=current_app.config["ALLOW_DRAMA_NUMBERS"],
                            campaign_id=campaign.id if campaign else None, data={
                                "email": data["email"] if channel == "email" else None,
                                "phone": data["phone"] if channel == "sms" else None,
                                "preferred_channel": channel,
                                "profile": {k: data[k] for k in (
                                    "age_band", "gender", "ethnicity", "disability", "area")},
                                "consent": {"surveys": True,
                                            "outcomes": data["consent_outcomes"] is not None}})
    except DuplicateMember as exc:
        field = "email" if exc.field == "email" else "phone"
        return _join_page(values, {field: ["You are already on the panel with this "
                                           f"{'email address' if field == 'email' else 'number'}."
                                           ]}, campaign, 409)
    bus().send(session, "panel.confirm_join", {"member_ref": member.member_ref})
    session.commit()
    return redirect(url_for("pages.join_check", by=channel), 303)


@pages.get("/join/check")
def join_check():
    by = "sms" if request.args.get("by") == "sms" else "email"
    return render_template("join_check.html", by=by)


@pages.route("/join/confirm/<token>", methods=["GET", "POST"])
def join_confirm(token: str):
    member_ref = member_from_token(current_app.config["SECRET_KEY"], token, salt="confirm")
    session = get_session()
    member = session.scalar(select(Member).where(Member.member_ref == member_ref)) \
        if member_ref else None
    if member is None or member.status == "erased":
        return render_template("message_page.html", heading="This link does not work",
                               paragraphs=["Sign up again from the join page."]), 404
    # A GET only shows the button: mail scanners follow links, people press buttons.
    if request.method == "POST" and member.status == "pending":
        member.status, member.confirmed_at = "active", utcnow()
        set_consent(session, member, "surveys", True, source="email-link")
        session.commit()
    return render_template("join_confirm.html", confirmed=member.status == "active")


@pages.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    member_ref = member_from_token(current_app.config["SECRET_KEY"], token)
    session = get_session()
    member = session.scalar(select(Member).where(Member.member_ref == member_ref)) \
        if member_ref else None
    if member is None:
        return render_template("message_page.html", heading="This link does not work",
                               paragraphs=["Reply STOP to any text from us, or contact us."]), 404
    # RFC 8058: the one-click POST unsubscribes; a GET (scanners) only asks.
    if request.method == "POST" and member.opted_out_at is None:
        withdraw_everything(session, member, source="unsubscribe-link", now=utcnow())
        session.commit()
    return render_template("unsubscribe.html", done=member.opted_out_at is not None)


def _signed_by_gateway() -> bool:
    """The request carries a valid X-Twilio-Signature for our public URL and auth token."""
    token = current_app.config["SMS_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    # Behind a proxy we see an internal URL; Twilio signed the public one.
    url = current_app.config["PANEL_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    return RequestValidator(token).validate(url, request.form, signature)


def _twiml(text: str | None):
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response), 200, {"Content-Type": "text/xml"}


@pages.post("/sms/inbound")
def sms_inbound():
    if not _signed_by_gateway():
        abort(403)
    session = get_session()
    raw = request.form.get("From", "")
    try:
        phone = normalise_phone(raw, current_app.config["ALLOW_DRAMA_NUMBERS"])
    except InvalidPhoneNumber:
        return _twiml(None)
    reply = handle_inbound(session, bus(), phone=phone, body=request.form.get("Body", ""),
                           provider_id=request.form.get("MessageSid", ""), now=utcnow(),
                           allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"])
    session.commit()
    return _twiml(reply)


@pages.post("/sms/status")
def sms_status():
    if not _signed_by_gateway():
        abort(403)
    session = get_session()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    delivery = session.scalar(select(Delivery).where(Delivery.provider_id == sid)) if sid else None
    if delivery is None or status not in STATUS_ORDER:
        return "", 204
    # Callbacks repeat and arrive out of order: only ever move forward, never out of terminal.
    if delivery.status in TERMINAL or STATUS_ORDER[status] <= STATUS_ORDER.get(delivery.status, 2):
        return "", 204
    delivery.status = status
    if request.form.get("ErrorCode"):
        delivery.error = f"{request.form.get('ErrorCode')} {request.form.get('ErrorMessage', '')}"
    if status in ("delivered", "undelivered", "failed") and delivery.template != "confirm_join":
        bus().send(session, "surveys.delivery_report",
                   {"deliveries": [{"delivery_ref": delivery.delivery_ref,
                                    "status": "failed" if status == "canceled" else status}]})
    session.commit()
    return "", 204


@pages.get("/representativeness")
def representativeness_page():
    session = get_session()
    area = request.args.get("area") or "all"
    threshold = current_app.config["UNDER_REPRESENTED_RATIO"]
    result = report(margins_from_db(session), member_counts(session), threshold)
    rows = [r for r in result["rows"] if r["area"] == area]
    under = [r for r in result["under_represented"] if r["area"] == area]
    areas = sorted({r["area"] for r in result["rows"]} - {"all"})
    return render_template("representativeness.html", rows=rows, under=under, area=area,
                           areas=areas, threshold=threshold)
