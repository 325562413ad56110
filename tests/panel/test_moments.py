"""Every moment panel stores comes back timezone-aware in UTC, on SQLite as on PostgreSQL, and
a time without a zone is refused rather than guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from services.panel.models import ContactEvent, Member
from shared.db import new_session
from tests.panel.factories import make_members


def test_moments_come_back_aware_in_utc(apps):
    ref = make_members(apps["panel"], 1)[0]
    paris = timezone(timedelta(hours=2))
    with apps["panel"].app_context(), new_session() as session:
        member = session.scalar(select(Member).where(Member.member_ref == ref))
        member.confirmed_at = datetime(2026, 6, 1, 14, 0, tzinfo=paris)
        session.add(ContactEvent(member_id=member.id, survey_id=1, sponsors="council"))
        session.commit()
    with apps["panel"].app_context(), new_session() as session:
        member = session.scalar(select(Member).where(Member.member_ref == ref))
        contacted = session.scalar(select(ContactEvent.contacted_at))
        assert member.confirmed_at == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        assert member.confirmed_at.tzinfo is UTC and member.joined_at.tzinfo is UTC
        assert contacted.tzinfo is UTC


def test_a_moment_without_a_zone_is_refused(apps):
    ref = make_members(apps["panel"], 1)[0]
    with apps["panel"].app_context(), new_session() as session:
        member = session.scalar(select(Member).where(Member.member_ref == ref))
        member.confirmed_at = datetime(2026, 6, 1, 14, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
