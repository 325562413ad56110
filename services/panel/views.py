"""Panel's pages and webhooks: joining, double opt-in, unsubscribe, inbound SMS and status."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.panel import queries
from services.panel.consent import member_from_token, unsubscribe_by_link
from services.panel.contacts import InvalidPhoneNumber, normalise_phone
from services.panel.gateway_status import record_status
from services.panel.members import confirm_by_link, sign_up
from services.panel.models import Campaign
from services.panel.schemas import JoinFormSchema
from services.panel.sms_inbound import receive_sms
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

FIELD_ORDER = ("preferred_channel", "email", "phone", "language", "age_band", "gender",
               "ethnicity", "disability", "tenure", "area", "consent_surveys")


def _join_page(values: dict, errors: dict, campaign: Campaign | None, status: int = 200):
    # People pick their ward by name; a ward the census file left unnamed shows its code.
    wards = queries.join_page_wards(get_session())
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
    code = (request.values.get("c") or request.values.get("campaign") or "").strip().upper()
    campaign = queries.campaign_by_code(get_session(), code)
    if request.method == "GET":
        return _join_page({}, {}, campaign)
    values = request.form.to_dict()
    # A browser sends each answer once: two of one are not ours to choose between.
    repeated = {name: ["Give one answer to this question."]
                for name, answers in request.form.lists() if len(answers) > 1}
    try:
        data = JoinFormSchema().load(values, unknown="exclude")
    except ValidationError as exc:
        return _join_page(values, {**exc.messages, **repeated}, campaign, 400)
    if repeated:
        return _join_page(values, repeated, campaign, 400)
    sign_up(get_session(), bus(), data=data, campaign_id=campaign.id if campaign else None,
            allow_drama_range=current_app.config["ALLOW_DRAMA_NUMBERS"])
    return redirect(url_for("pages.join_check", by=data["preferred_channel"]), 303)


@pages.get("/join/check")
def join_check():
    by = "sms" if request.args.get("by") == "sms" else "email"
    return render_template("join_check.html", by=by)


@pages.route("/join/confirm/<token>", methods=["GET", "POST"])
def join_confirm(token: str):
    # A GET only shows the button: mail scanners follow links, people press buttons.
    member = confirm_by_link(
        get_session(), now=utcnow(), confirm=request.method == "POST",
        member_ref=member_from_token(current_app.config["SECRET_KEY"], token, salt="confirm"))
    return render_template("join_confirm.html", confirmed=member.status == "active")


@pages.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    # RFC 8058: the one-click POST unsubscribes; a GET (scanners) only asks.
    done = unsubscribe_by_link(
        get_session(), now=utcnow(), confirm=request.method == "POST",
        member_ref=member_from_token(current_app.config["SECRET_KEY"], token))
    return render_template("unsubscribe.html", done=done)


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
    allow_drama = current_app.config["ALLOW_DRAMA_NUMBERS"]
    try:
        phone = normalise_phone(request.form.get("From", ""), allow_drama)
    except InvalidPhoneNumber:
        return _twiml(None)
    return _twiml(receive_sms(get_session(), bus(), phone=phone, now=utcnow(),
                              body=request.form.get("Body", ""), allow_drama=allow_drama,
                              provider_id=request.form.get("MessageSid", "")))


@pages.post("/sms/status")
def sms_status():
    if not _signed_by_gateway():
        abort(403)
    form = request.form
    code = form.get("ErrorCode")
    record_status(get_session(), bus(),
                  provider_id=form.get("MessageSid") or form.get("SmsSid") or "",
                  status=(form.get("MessageStatus") or form.get("SmsStatus") or "").lower(),
                  error=f"{code} {form.get('ErrorMessage', '')}" if code else None)
    return "", 204


def _group(row: dict) -> str:
    dimension = row["dimension"]
    return f"{dimension_label(dimension)}: {category_label(dimension, row['category'])}"


@pages.get("/representativeness")
def representativeness_page():
    page = queries.ward_report(get_session(), area=request.args.get("area") or "all",
                               threshold=current_app.config["UNDER_REPRESENTED_RATIO"])
    return render_template("representativeness.html", group=_group, **page)
