"""The bus tables and finished exports are pruned after RETENTION_DAYS, never sooner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.surveys.models import ExportJob, Inbox, Outbox
from services.surveys.retention import prune_finished_exports
from shared.bus import utcnow
from shared.config import ConfigError, settings_from_env
from shared.db import new_session
from shared.retention import prune_bus


def test_sent_outbox_and_handled_inbox_rows_go_after_the_retention_period(surveys_app):
    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    with surveys_app.app_context():
        with new_session() as session:
            session.add_all([
                Outbox(message_id="old-sent", type="t", body="{}", created_at=old, sent_at=old),
                Outbox(message_id="recent-sent", type="t", body="{}", created_at=recent,
                       sent_at=recent),
                # Never sent: it must wait for Redis however old it is.
                Outbox(message_id="old-unsent", type="t", body="{}", created_at=old),
                Inbox(message_id="old-handled", type="t", received_at=old),
                Inbox(message_id="recent-handled", type="t", received_at=recent),
            ])
            session.commit()
        assert prune_bus(now=now) == {"outbox": 1, "inbox": 1}
        with new_session() as session:
            outbox = set(session.scalars(select(Outbox.message_id)))
            inbox = set(session.scalars(select(Inbox.message_id)))
    assert outbox == {"recent-sent", "old-unsent"}
    assert inbox == {"recent-handled"}


def test_finished_exports_go_after_the_retention_period_and_running_ones_stay(surveys_app):
    now = utcnow()
    old = now - timedelta(days=40)
    with surveys_app.app_context():
        with new_session() as session:
            session.add_all([
                ExportJob(agency="council", role="analyst", survey_ids=[1], format="csv",
                          status="done", content=b"x", created_at=old, finished_at=old),
                ExportJob(agency="council", role="analyst", survey_ids=[2], format="csv",
                          status="failed", created_at=old, finished_at=old),
                ExportJob(agency="council", role="analyst", survey_ids=[3], format="csv",
                          status="running", created_at=old),
                ExportJob(agency="council", role="analyst", survey_ids=[4], format="csv",
                          status="done", content=b"y", created_at=now, finished_at=now),
            ])
            session.commit()
        assert prune_finished_exports(now=now) == 2
        with new_session() as session:
            left = sorted(ids for ids in session.scalars(select(ExportJob.survey_ids)))
    assert left == [[3], [4]], "the running export and the recent one stay"


def test_a_retention_shorter_than_a_failed_job_may_wait_is_refused():
    with pytest.raises(ConfigError, match="RETENTION_DAYS must be at least 8"):
        settings_from_env("surveys", {"RETENTION_DAYS": "3"})
    assert settings_from_env("surveys", {})["RETENTION_DAYS"] == 30
