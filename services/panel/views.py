"""Panel's pages and webhooks: joining, double opt-in, unsubscribe, inbound SMS and status."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.panel.consent import member_from_token, set_consent, withdraw_everything
from services.panel.contacts import InvalidPhoneNumber, normalise_phone
from services.panel.members import sign_up
from services.panel.messaging import PANEL_TEMPLATES
from services.panel.models import Campaign, Delivery, Member
from services.panel.representativeness import report
from services.panel.schemas import JoinFormSchema
from services.panel.sms_inbound import handle_inbound
from services.panel.targets import area_names, margins_from_db, member_counts
from shared.bus import utcnow
from shared.db import get_session
from shared.profile import (
    CATEGORIES,
    LABELS,
    LANGUAGE_LABELS,
    LANGUAGES,
    category_label,
    dimension_label,
)
from shared.service import bus

pages = Blueprint("pages", __name__, template_folder="templates")

# Twilio's statuses in the order a message moves through them; terminal ones never move back.
STATUS_ORDER = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "canceled": 3}
TERMINAL = {"delivered", "undelivered", "failed", "canceled", "no_consent", "opted_out"}


FIELD_ORDER = ("preferred_channel", "email", "phone", "language", "age_band", "gender",
               "ethnicity", "disability", "tenure", "area", "consent_surveys")


def _join_page(values: dict, errors: dict, campaign: Campaign | None, status: int = 200):
    names = area_names(get_session())
    # People pick their ward by name; a ward the census file left unnamed shows its code.
    wards = sorted(((code, names.get(code) or code) for code in margins_from_db(get_session())),
                   key=lambda ward: ward[1])
    ordered = [(f, errors[f][0] if isinstance(errors[f], list) else str(errors[f]))
               for f in FIELD_ORDER if f in errors]
    return render_template(
        "join.html", values=values, errors=dict(ordered), ordered_errors=ordered,
        campaign=campaign, wards=wards, has_errors=bool(errors), labels=LABELS,
        categories=CATEGORIES, languages=LANGUAGES, language_labels=LANGUAGE_LABELS,
    ), status


@pages.route("/join", methods=["GET", "POST"])
def join():
    """Sign up to the panel (rate-limited per client address: see ratelimits.py).

    Someone already on the panel gets the same answer as a new sign-up, so the page never
    tells a stranger who is a member; the member is told by their own email or phone instead.
    """
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
    sign_up(session, bus(), data=data, campaign_id=campaign.id if campaign else None,
            allow_drama_range=current_app.config["ALLOW_DRAMA_NUMBERS"])
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
    if status in ("delivered", "undelivered", "failed") \
            and delivery.template not in PANEL_TEMPLATES:
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
    names = area_names(session)
    rows = [r for r in result["rows"] if r["area"] == area]
    under = [r for r in result["under_represented"] if r["area"] == area]
    # People read ward names and category words, never codes.
    areas = sorted(((a, names.get(a) or a) for a in {r["area"] for r in result["rows"]}
                    - {"all"}), key=lambda ward: ward[1])
    return render_template("representativeness.html", rows=rows, under=under, area=area,
                           area_name=names.get(area) or area, areas=areas, threshold=threshold,
                           group=lambda r: (f"{dimension_label(r['dimension'])}: "
                                            f"{category_label(r['dimension'], r['category'])}"))
