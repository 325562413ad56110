"""Demo data for surveys: three agencies, their keys, a member of staff of each console role,
and one joint survey in fieldwork (the council leads it; police and health accepted its
invitation to co-sponsor)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.joint import answer_invitation
from services.surveys.keys import announce_agency, issue_key, revoke_key
from services.surveys.lifecycle import create_survey, launch_survey
from services.surveys.models import (
    Agency,
    ApiKey,
    Invitation,
    Response,
    SavedAnswer,
    StaffUser,
    Survey,
)
from services.surveys.staff_users import SignInSettings, active_user_by_email, sign_in_link
from shared.bus import Bus
from shared.db import new_session

DEMO_AGENCIES = {
    "council": "Riverside Borough Council",
    "police": "Riverside Police",
    "health": "Riverside Health Trust",
}
DEMO_KEYS = (
    ("council", "panel_manager"), ("council", "officer"), ("council", "analyst"),
    ("police", "officer"), ("health", "officer"),
)
DEMO_SURVEY_TITLE = "Feeling safe in Riverside town centre"
# Every console role at the lead agency, and an officer of a co-sponsor: (email, name, agency,
# role), in the order `make up` prints their sign-in links.
DEMO_STAFF = (
    ("admin@riverside-council.example", "Ada Adeyemi", "council", "admin"),
    ("officer@riverside-council.example", "Olu Okafor", "council", "officer"),
    ("analyst@riverside-council.example", "Priya Shah", "council", "analyst"),
    ("panel@riverside-council.example", "Sam Lee", "council", "panel_manager"),
    ("decisions@riverside-council.example", "Dee Morgan", "council", "decision_owner"),
    ("officer@riverside-police.example", "Rhys Evans", "police", "officer"),
)


@dataclass(frozen=True)
class DemoSignIn:
    name: str
    email: str
    role: str  # as people say it: "panel manager"
    agency_name: str
    link: str


def demo_survey(today: date) -> dict:
    return {
        "title": DEMO_SURVEY_TITLE,
        "summary": "The council, police and health trust are planning the town centre together.",
        "purpose": "To decide where to spend the town-centre safety budget next year.",
        "scope": "Lighting, patrols and late-night health services can change; "
                 "the budget's total cannot.",
        "decision": {"description": "Allocate the 2027 town-centre safety budget",
                     "owner": "Riverside Community Safety Partnership board",
                     "due": today + timedelta(days=60)},
        "sponsors": [{"agency": "council", "cost_share": "50.00"},
                     {"agency": "police", "cost_share": "30.00"},
                     {"agency": "health", "cost_share": "20.00"}],
        "sample_size": 500,
        "topics": ["community safety", "town centre"],
        "fieldwork": {"start": today, "end": today + timedelta(days=21)},
        "reminder_days": [3, 7],
        "channels": ["web", "sms_link"],
        "questions": [
            {"code": "feel_safe_after_dark", "type": "rating",
             "text": "How safe do you feel in the town centre after dark?",
             "options": [], "required": True,
             "scale": {"min": 1, "max": 5, "labels": ["Very unsafe", "Fairly unsafe", "Neither",
                                                      "Fairly safe", "Very safe"]}},
            {"code": "spend_priority", "type": "single_choice",
             "text": "What should the partnership spend most on?",
             "options": ["Better street lighting", "More police patrols",
                         "Late-night health and welfare services"],
             "required": True, "scale": None},
            {"code": "anything_else", "type": "free_text",
             "text": "Is there anything else you want the partnership to know?",
             "options": [], "required": False, "scale": None},
        ],
    }


def seed_demo(session: Session, bus: Bus, today: date) -> dict:
    """Create what is missing; return fresh demo keys (older demo keys are revoked)."""
    for slug, name in DEMO_AGENCIES.items():
        agency = session.get(Agency, slug)
        if agency is None:
            agency = Agency(slug=slug, name=name)
            session.add(agency)
        announce_agency(session, bus, agency)
    session.flush()
    for email, name, agency, role in DEMO_STAFF:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is None:
            session.add(StaffUser(email=email, name=name, agency=agency, role=role))
    for prefix in session.scalars(select(ApiKey.key_prefix).where(ApiKey.label == "demo",
                                                                  ApiKey.revoked_at.is_(None))):
        revoke_key(session, bus, key_prefix=prefix)
    keys = {f"{agency} {role}": issue_key(session, bus, agency=agency, role=role, label="demo")
            for agency, role in DEMO_KEYS}
    survey = session.scalar(select(Survey).where(Survey.title == DEMO_SURVEY_TITLE))
    if survey is None:
        survey = create_survey(session, data=demo_survey(today), lead_agency="council")
        # The council names police and health as sponsors; in the demo they both accept.
        for invitation in list(survey.join_requests):
            answer_invitation(survey, invitation, accept=True)
        launch_survey(session, bus, survey, today)
    session.commit()
    return {"keys": keys, "survey_id": survey.id}


def demo_sign_ins(session: Session, settings: SignInSettings) -> list[DemoSignIn]:
    """A fresh sign-in link (single use, 15 minutes) for each demo member of staff still
    active, with who they are."""
    agency_names = dict(session.execute(select(Agency.slug, Agency.name)).all())
    sign_ins = []
    for email, _, _, _ in DEMO_STAFF:
        user = active_user_by_email(session, email)
        if user is not None:
            sign_ins.append(DemoSignIn(
                name=user.name, email=user.email, role=user.role.replace("_", " "),
                agency_name=agency_names.get(user.agency, user.agency),
                link=sign_in_link(user, settings)))
    return sign_ins


def unanswered_demo_token(session: Session) -> str | None:
    """The token of the demo survey's first invitation nobody has answered or started yet, so
    the link `make up` prints opens the questions, not "already answered"."""
    return session.scalar(
        select(Invitation.token)
        .join(Survey, Survey.id == Invitation.survey_id)
        .where(Survey.title == DEMO_SURVEY_TITLE, Invitation.dialogue_code.is_(None),
               ~select(Response.id).where(Response.invitation_id == Invitation.id).exists(),
               ~select(SavedAnswer.id).where(SavedAnswer.invitation_id == Invitation.id).exists())
        .order_by(Invitation.id).limit(1))


def wait_for_demo_token(wait: float) -> str | None:
    """An unanswered demo invitation's token, waiting up to `wait` seconds for panel to draw
    the sample and the invitations to be made (the workers do it after `demo seed`)."""
    deadline = time.monotonic() + wait
    while True:
        with new_session() as session:
            token = unanswered_demo_token(session)
        if token or time.monotonic() > deadline:
            return token
        time.sleep(0.5)
