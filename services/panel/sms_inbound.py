"""Inbound SMS: STOP/START/HELP/YES keywords, the JOIN dialogue, and replies for surveys.

The replies are English here and translated through panel's catalogue (shared/catalogues.py)
into the member's language; someone not on the panel yet is answered in English.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.panel.consent import resume, set_consent, withdraw_everything
from services.panel.contacts import is_mobile
from services.panel.members import DuplicateMember, add_member
from services.panel.messaging import PANEL_DIR
from services.panel.models import Campaign, InboundSms, Member, SmsJoin
from shared.bus import Bus
from shared.catalogues import N_, translations
from shared.free_text import remove_contact_details
from shared.profile import is_area_code

STOP_WORDS = {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
              "OPTOUT"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
# Someone joining by text is asked in English and joins with English as their language; a
# member's replies are in the member's language.
JOIN_LANGUAGE = "en"
JOIN = re.compile(r"^JOIN(?:\s+([A-Z0-9]{3,12}))?$")

HELP_TEXT = N_("civicpanel: the citizens' panel of your local public services. Reply STOP to "
               "stop all messages. Help: panel@civicpanel.localhost")
STOPPED_TEXT = N_("civicpanel: you will get no more messages from any agency. "
                  "Reply START to rejoin.")
RESUMED_TEXT = N_("civicpanel: welcome back. Reply STOP at any time to stop all messages.")
NOT_A_MOBILE_TEXT = N_("civicpanel: to join by text we need a UK mobile number. "
                       "You can join online instead.")
CONFIRMED_TEXT = N_("civicpanel: thank you, you are on the panel. Reply STOP at any time.")
AGE_AGAIN_TEXT = N_("Please reply with your age in years, as a number (16 or over).")

AGE_STEPS = ((16, "16-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"),
             (65, "65-74"), (75, "75+"))
QUESTIONS = {
    "age": N_("civicpanel: thanks for joining. How old are you? Reply with your age in years."),
    "gender": N_("Are you: F female, M male, O another gender? Reply F, M or O."),
    "ethnicity": N_("Your ethnic group: A Asian, B Black, M Mixed, W White, O other? "
                    "Reply one letter."),
    "disability": N_("Do health problems or a disability limit your day-to-day activities? "
                     "Reply Y or N."),
    "area": N_("Which ward do you live in? Reply with its code, like E05001001."),
    "confirm": N_("Reply YES to join the panel and get up to 3 survey invitations by text each "
                  "quarter. Reply STOP at any time."),
}
CHOICES = {
    "gender": {"F": "female", "M": "male", "O": "other"},
    "ethnicity": {"A": "asian", "B": "black", "M": "mixed", "W": "white", "O": "other"},
    "disability": {"Y": "disabled", "N": "not_disabled"},
}
STEPS = ("age", "gender", "ethnicity", "disability", "area", "confirm")
# A reply goes on to surveys with its contact details taken out (surveys says the same words).
PLACEHOLDER_TEXTS = {
    "email": N_("[email address removed]"),
    "link": N_("[web link removed]"),
    "phone": N_("[phone number removed]"),
    "postcode": N_("[postcode removed]"),
}


def in_language(text: str, language: str) -> str:
    """One of the texts above, in language (English where panel has no catalogue for it)."""
    return translations(PANEL_DIR, language).gettext(text)


def without_contact_details(body: str, language: str) -> str:
    """A member's reply as it may leave panel: emails, phone numbers, postcodes and links
    replaced by placeholders in the member's language."""
    words = {kind: in_language(text, language) for kind, text in PLACEHOLDER_TEXTS.items()}
    return remove_contact_details(body, words).text


def keyword(body: str) -> str:
    return re.sub(r"\s+", " ", body.strip().upper())


def handle_inbound(session: Session, bus: Bus, *, phone: str, body: str, provider_id: str,
                   now: datetime, allow_drama: bool) -> str | None:
    """Act on one inbound SMS once; the text to reply with, or None for no reply.

    The gateway retries a webhook it thinks failed, and a captured request can be replayed:
    a message whose provider id was seen before has no effect and gets no reply.
    """
    if provider_id and not first_receipt(session, provider_id, now):
        return None
    word = keyword(body)
    member = session.scalar(select(Member).where(Member.phone == phone,
                                                 Member.status != "erased"))
    dialogue = session.scalar(select(SmsJoin).where(SmsJoin.phone == phone))
    language = member.language if member is not None else "en"
    if word in STOP_WORDS:
        if dialogue is not None:
            session.delete(dialogue)
        if member is not None:
            withdraw_everything(session, member, source="sms", now=now)
        return in_language(STOPPED_TEXT, language)
    if word in HELP_WORDS:
        return in_language(HELP_TEXT, language)
    if member is not None and (word in START_WORDS or word == "YES") \
            and member.opted_out_at is not None:
        resume(session, member, source="sms", now=now)
        return in_language(RESUMED_TEXT, language)
    if member is not None and word == "YES" and member.status == "pending":
        member.status, member.confirmed_at = "active", now
        set_consent(session, member, "surveys", True, source="sms-yes", now=now)
        return in_language(CONFIRMED_TEXT, language)
    join = JOIN.match(word)
    if join and member is None and not is_mobile(phone, allow_drama):
        return in_language(NOT_A_MOBILE_TEXT, language)
    if join and member is None:
        campaign = None
        if join.group(1):
            campaign = session.scalar(select(Campaign).where(Campaign.code == join.group(1)))
        if dialogue is None:
            dialogue = SmsJoin(phone=phone, answers={})
            session.add(dialogue)
        dialogue.campaign_id = campaign.id if campaign else None
        dialogue.step, dialogue.answers, dialogue.updated_at = "age", {}, now
        return in_language(QUESTIONS["age"], JOIN_LANGUAGE)
    if dialogue is not None and member is None:
        return _continue_dialogue(session, dialogue, word, now, allow_drama)
    if member is not None and member.opted_out_at is None:
        bus.send(session, "surveys.sms_reply", {
            "member_ref": member.member_ref,
            "body": without_contact_details(body[:1600], language), "received_at": now,
            "provider_id": provider_id or None})
    return None


def first_receipt(session: Session, provider_id: str, now: datetime) -> bool:
    """Record the message's provider id; False when it was recorded before.

    Called first in the request's transaction: two copies racing each other meet on the
    primary key, and the loser rolls back nothing but this row.
    """
    provider_id = provider_id[:64]
    if session.get(InboundSms, provider_id) is not None:
        return False
    session.add(InboundSms(provider_id=provider_id, received_at=now))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _continue_dialogue(session: Session, dialogue: SmsJoin, word: str, now: datetime,
                       allow_drama: bool) -> str:
    answers = dict(dialogue.answers)
    step = dialogue.step
    if step == "age":
        if not re.fullmatch(r"[0-9]{1,3}", word) or not 16 <= int(word) <= 120:
            return in_language(AGE_AGAIN_TEXT, JOIN_LANGUAGE)
        age = int(word)
        answers["age_band"] = [band for low, band in AGE_STEPS if age >= low][-1]
    elif step in CHOICES:
        if word not in CHOICES[step]:
            return in_language(QUESTIONS[step], JOIN_LANGUAGE)
        answers[step] = CHOICES[step][word]
    elif step == "area":
        if not is_area_code(word):
            return in_language(QUESTIONS["area"], JOIN_LANGUAGE)
        answers["area"] = word
    elif step == "confirm":
        if word != "YES":
            return in_language(QUESTIONS["confirm"], JOIN_LANGUAGE)
        try:
            member = add_member(session, source="sms", allow_drama_range=allow_drama,
                                campaign_id=dialogue.campaign_id, data={
                                    "email": None, "phone": dialogue.phone,
                                    "preferred_channel": "sms", "language": JOIN_LANGUAGE,
                                    "profile": {k: answers[k] for k in (
                                        "age_band", "gender", "ethnicity", "disability",
                                        "area")},
                                    "consent": {"surveys": True, "outcomes": True}})
            member.confirmed_at = now
        except DuplicateMember:
            pass
        session.delete(dialogue)
        return in_language(CONFIRMED_TEXT, JOIN_LANGUAGE)
    following = STEPS[STEPS.index(step) + 1]
    # A campaign aimed at one ward already knows it.
    campaign = session.get(Campaign, dialogue.campaign_id) if dialogue.campaign_id else None
    wards = (campaign.target_group or {}).get("area", []) if campaign else []
    if following == "area" and len(wards) == 1:
        answers["area"] = wards[0]
        following = "confirm"
    dialogue.step, dialogue.answers, dialogue.updated_at = following, answers, now
    return in_language(QUESTIONS[following], JOIN_LANGUAGE)


def receive_sms(session: Session, bus: Bus, *, phone: str, body: str, provider_id: str,
                now: datetime, allow_drama: bool) -> str | None:
    """One inbound SMS acted on and committed; the text to reply with, or None."""
    reply = handle_inbound(session, bus, phone=phone, body=body, provider_id=provider_id,
                           now=now, allow_drama=allow_drama)
    session.commit()
    return reply
