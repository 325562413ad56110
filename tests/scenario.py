"""Building blocks for tests: agencies with keys, panel members, a survey to launch."""

from __future__ import annotations

from datetime import date, timedelta

from services.surveys.keys import add_agency, issue_key
from shared.db import new_session

AGENCIES = {"council": "Riverside Council", "police": "Riverside Police",
            "health": "Riverside Health", "college": "Riverside College"}
ROLES = ("admin", "officer", "analyst", "panel_manager", "decision_owner")


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def setup_agencies(apps: dict, pump) -> dict[str, dict[str, str]]:
    """Every test agency with a key per role, replicated to panel and feedback.

    Returns keys[agency][role].
    """
    app = apps["surveys"]
    keys: dict[str, dict[str, str]] = {}
    with app.app_context(), new_session() as session:
        for slug, name in AGENCIES.items():
            add_agency(session, app.extensions["bus"], slug=slug, name=name)
        for slug in AGENCIES:
            keys[slug] = {role: issue_key(session, app.extensions["bus"], agency=slug, role=role)
                          for role in ROLES}
        session.commit()
    pump()
    return keys


def member_payload(index: int, channel: str = "email", **profile) -> dict:
    base_profile = {"age_band": "25-34", "gender": "female", "ethnicity": "white",
                    "disability": "not_disabled", "area": "E05001001"}
    base_profile.update(profile)
    return {
        "email": f"person{index}@example.org" if channel == "email" else None,
        "phone": f"07700 900{index:03d}" if channel == "sms" else None,
        "preferred_channel": channel,
        "profile": base_profile,
        "consent": {"surveys": True, "outcomes": True},
    }


def add_members(client, key: str, count: int, sms_every: int = 0) -> list[dict]:
    members = []
    for index in range(count):
        channel = "sms" if sms_every and index % sms_every == 0 else "email"
        response = client.post("/api/v1/members", json=member_payload(index, channel),
                               headers=bearer(key))
        assert response.status_code == 201, response.json
        members.append(response.json)
    return members


def survey_payload(sponsors=(("council", "100.00"),), sample_size: int = 10, **changes) -> dict:
    payload = {
        "title": "Feeling safe in the town centre",
        "summary": "Help the partnership decide how to make the town centre safer.",
        "purpose": "To decide where to spend the town-centre safety budget.",
        "scope": "Lighting and patrols can change; the total budget cannot.",
        "decision": {"description": "Allocate the town-centre safety budget",
                     "owner": "Community Safety Partnership board",
                     "due": (date.today() + timedelta(days=30)).isoformat()},
        "sponsors": [{"agency": a, "cost_share": share} for a, share in sponsors],
        "sample_size": sample_size,
        "questions": [
            {"code": "feel_safe", "type": "rating", "text": "How safe do you feel after dark?",
             "scale": {"min": 1, "max": 5, "labels": ["Very unsafe", "Fairly unsafe", "Neither",
                                                      "Fairly safe", "Very safe"]}},
            {"code": "priority", "type": "single_choice",
             "text": "What should we spend most on?",
             "options": ["Street lighting", "Police patrols", "Welfare services"]},
            {"code": "comments", "type": "free_text", "text": "Anything else?",
             "required": False},
        ],
    }
    payload.update(changes)
    return payload


def accept_invitations(client, keys: dict[str, dict[str, str]], survey: dict) -> None:
    """Each agency a new draft names as a co-sponsor accepts, by one of its officers."""
    for invitation in survey["invitations"]:
        answered = client.post(f"/api/v1/surveys/invitations/{invitation['id']}/answer",
                               headers=bearer(keys[invitation["agency"]]["officer"]),
                               json={"accept": True})
        assert answered.status_code == 200, answered.json
