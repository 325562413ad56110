"""The deployed shape: each service's worker process relays its own outbox and runs its jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

from services.panel.models import ApiKey as PanelApiKey
from services.panel.models import Delivery
from services.surveys.models import ApiKey as SurveysApiKey
from services.surveys.models import Invitation
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload
from tests.waiting import wait_for


@pytest.fixture
def worker_processes(database_urls, redis_server, tmp_path):
    env = {**os.environ, "REDIS_URL": redis_server.url, "RELAY_INTERVAL_SECONDS": "0.1",
           "SURVEYS_URL": "http://surveys.test", "FEEDBACK_URL": "http://feedback.test"}
    env.update({f"{name.upper()}_DATABASE_URL": url for name, url in database_urls.items()})
    for key in ("SMTP_HOST", "SMS_GATEWAY_URL"):
        env.pop(key, None)
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in database_urls}  # noqa: SIM115
    processes = {
        name: subprocess.Popen([sys.executable, "-m", "shared.worker", name], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
        for name, log in logs.items()
    }
    redis = Redis.from_url(redis_server.url)
    wait_for(lambda: {q for w in Worker.all(connection=redis) for q in w.queue_names()}
             == set(processes), timeout=60)
    yield processes
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
    for name, process in processes.items():
        returncode = process.wait(timeout=30)
        logs[name].close()
        assert returncode == 0, (tmp_path / f"{name}.log").read_text()[-3000:]


def count(app, model) -> int:
    with app.app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_worker_processes_carry_a_launch_through_to_logged_deliveries(
        apps, clients, pump, worker_processes):
    keys = setup_agencies(apps, pump)
    # The worker processes relay and handle the keys' replication too, racing the pump: the
    # keys work on panel once panel's worker has stored them.
    issued = count(apps["surveys"], SurveysApiKey)
    wait_for(lambda: count(apps["panel"], PanelApiKey) == issued)
    add_members(clients["panel"], keys["council"]["panel_manager"], 6)
    officer = bearer(keys["council"]["officer"])
    survey_id = clients["surveys"].post("/api/v1/surveys", json=survey_payload(sample_size=4),
                                        headers=officer).json["id"]
    assert clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch",
                                   headers=officer).status_code == 202

    # Nobody pumps here: the surveys worker relays the launch, panel's worker draws and
    # delivers (to its log, with no mail server configured), and reports back.
    wait_for(lambda: count(apps["panel"], Delivery) == 4)
    with apps["surveys"].app_context(), new_session() as session:
        wait_for(lambda: session.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.delivery_status == "sent")) == 4 or session.rollback())
