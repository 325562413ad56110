"""Panel members made straight in the database, and draws run the way panel's worker runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select, update

from services.panel.jobs import draw_sample
from services.panel.models import Member, Outbox
from shared.db import new_session
from shared.messages import build_message


def make_members(app, count: int, start: int = 0, channel: str = "email",
                 **profile) -> list[str]:
    """`count` consenting members with this profile; returns their member_refs in id order."""
    base = {"age_band": "25-34", "gender": "female", "ethnicity": "white",
            "disability": "not_disabled", "area": "E05001001"}
    base.update(profile)
    with app.app_context(), new_session() as session:
        members = [Member(
            email=f"m{start + i}@example.org" if channel == "email" else None,
            phone=f"+447700900{(start + i) % 1000:03d}" if channel == "sms" else None,
            preferred_channel=channel, language="en", consent_surveys=True,
            consent_outcomes=True, **base) for i in range(count)]
        session.add_all(members)
        session.commit()
        return [m.member_ref for m in members]


def run_draw(app, **payload) -> dict:
    """Run a panel.draw_sample job; the surveys.sample_drawn batches it wrote, merged."""
    payload.setdefault("survey_id", 1)
    payload.setdefault("sponsors", ["council"])
    with app.app_context():
        with new_session() as session:
            seen = set(session.scalars(select(Outbox.message_id)))
        draw_sample(build_message("panel.draw_sample", payload))
        with new_session() as session:
            rows = [r for r in session.scalars(select(Outbox).where(
                Outbox.type == "surveys.sample_drawn").order_by(Outbox.id))
                if r.message_id not in seen]
    batches = [json.loads(r.body)["payload"] for r in rows]
    # Another draw may run at the same time (concurrency tests): keep this survey's batches.
    batches = [b for b in batches if b["survey_id"] == payload["survey_id"]]
    return {"members": [m for b in batches for m in b["members"]],
            "shortfall": batches[0]["shortfall"], "cells": batches[0]["cells"],
            "batches": batches}


def keep_draw_in_panel(app) -> None:
    """Never hand surveys the drawn samples waiting in panel's outbox.

    A draw run here is for a survey surveys does not have; told of it, surveys would invite
    nobody and give the members' contact slots back (panel.contacts_unused).
    """
    with app.app_context(), new_session() as session:
        session.execute(update(Outbox).where(Outbox.type == "surveys.sample_drawn",
                                             Outbox.sent_at.is_(None))
                        .values(sent_at=datetime.now(UTC)))
        session.commit()


def set_member(app, member_ref: str, **values) -> None:
    with app.app_context(), new_session() as session:
        member = session.scalar(select(Member).where(Member.member_ref == member_ref))
        for key, value in values.items():
            setattr(member, key, value)
        session.commit()


def member(app, member_ref: str) -> Member:
    with app.app_context(), new_session() as session:
        return session.scalar(select(Member).where(Member.member_ref == member_ref))


def days_ago(days: int) -> datetime:
    from datetime import UTC, timedelta

    return datetime.now(UTC) - timedelta(days=days)
