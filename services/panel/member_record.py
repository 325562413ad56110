"""What a panel manager reads of one member in the console: the subject access export, in words
(category labels and ward names, never codes), with the contact cap beside the invitations,
and what erasing them removes where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.panel.contact_cap import ContactCap
from services.panel.contacts import InvalidPhoneNumber, normalise_mobile
from services.panel.erasure import subject_access_export
from services.panel.queries import panel_member, search_members
from services.panel.survey_respondents import known_agency_names
from services.panel.targets import area_names
from shared.profile import PROFILE_DIMENSIONS, category_label, dimension_label

PURPOSE_LABELS = {"surveys": "Survey invitations", "outcomes": "Hearing what was decided",
                  "recontact": "Being asked again about the same topic"}
CHANNEL_LABELS = {"email": "Email", "sms": "Text message"}
# Where a change of consent came from, in words; any other source is shown as it is.
SOURCE_LABELS = {"console": "added in the console", "console:phone": "by phone, in the console",
                 "console:email": "by email, in the console",
                 "console:letter": "by letter, in the console",
                 "console:in_person": "in person, in the console",
                 "console:opt-out": "an agency opt-out, in the console", "api": "through the API",
                 "import": "a CSV import", "join-page": "the join page",
                 "email-link": "their email confirmation link", "sms": "a text message",
                 "sms-yes": "replying YES by text", "unsubscribe-link": "an unsubscribe link",
                 "gateway-21610": "the SMS gateway (they replied STOP)"}
STATUS_LABELS = {"active": "Active", "pending": "Waiting to confirm they joined",
                 "erased": "Erased"}

@dataclass(frozen=True)
class FoundMember:
    member_ref: str
    email: str | None
    phone: str | None
    external_id: str | None
    ward: str
    status: str


def find_members(session: Session, *, text: str, allow_drama: bool) -> list[FoundMember]:
    """Members whose email, phone number, member_ref or partner id matches `text`."""
    try:
        phone = normalise_mobile(text, allow_drama) if text.strip() else None
    except InvalidPhoneNumber:
        phone = None
    names = area_names(session)
    return [FoundMember(m.member_ref, m.email, m.phone, m.external_id,
                        category_label("area", m.area, names), STATUS_LABELS.get(m.status,
                                                                                 m.status))
            for m in search_members(session, text, phone)]


def profile_rows(profile: dict, names: dict[str, str]) -> list[tuple[str, str]]:
    """(dimension, category) in words, in the profile's order; extras by their names."""
    rows = [(dimension_label(d), category_label(d, str(profile[d]), names) if profile.get(d)
             not in (None, "") else "Not given") for d in PROFILE_DIMENSIONS]
    return rows + [(name.replace("_", " ").capitalize(), str(value))
                   for name, value in sorted((profile.get("extra") or {}).items())]


def cap_summary(cap: ContactCap, invited: list[datetime], free_at: datetime | None,
                now: datetime) -> dict:
    window_start = now - cap.window
    return {"in_window": sum(1 for at in invited if at >= window_start),
            "invitations": cap.invitations, "window_days": cap.window.days,
            "min_gap_days": cap.min_gap.days,
            "free_at": free_at if free_at and free_at > now else None}


def member_record(session: Session, *, member_ref: str, cap: ContactCap, now: datetime) -> dict:
    """Everything held on a member not erased (NotFound otherwise), ready to read."""
    member = panel_member(session, member_ref)
    export = subject_access_export(session, member)
    invited = [datetime.fromisoformat(i["at"]) for i in export["invitations_reserved"]]
    return {**export, "profile_rows": profile_rows(export["member"]["profile"],
                                                   area_names(session)),
            "status_label": STATUS_LABELS.get(member.status, member.status),
            "channel_label": CHANNEL_LABELS.get(member.preferred_channel,
                                                member.preferred_channel),
            "cap": cap_summary(cap, invited, member.cap_free_at, now),
            "agency_names": known_agency_names(session),
            "labels": {"purpose": PURPOSE_LABELS, "channel": CHANNEL_LABELS,
                       "source": SOURCE_LABELS,
                       "delivery": DELIVERY_STATUS_LABELS, "template": TEMPLATE_LABELS}}


DELIVERY_STATUS_LABELS = {
    "pending": "Waiting to be sent", "sending": "Being sent", "sent": "Sent",
    "delivered": "Delivered", "undelivered": "Not delivered", "failed": "Failed",
    "canceled": "Cancelled", "no_consent": "Not sent: no consent",
    "opted_out": "Not sent: opted out", "unconfirmed": "May have been sent (unconfirmed)"}
TEMPLATE_LABELS = {"invitation": "Survey invitation", "reminder": "Reminder",
                   "outcome": "What was decided", "progress": "Progress update",
                   "confirm_join": "Confirm joining", "already_joined": "Already joined",
                   "dialogue": "Survey question by text"}
