"""The outcome reaches each respondent once even when a worker dies mid-batch: real worker
processes, one killed with SIGKILL in the middle of its work, and another finishing it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from rq import Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from services.feedback.models import Outbox, Respondent
from services.panel.delivery import SmtpSender
from services.panel.models import Delivery
from shared.bus import queue_for
from shared.db import new_session
from tests.feedback.closing import close_survey, complete_and_publish, only_report
from tests.scenario import add_members, setup_agencies
from tests.waiting import no_jobs_left, wait_for

# Panel claims and sends as many emails at a time as it holds SMTP sessions open: enough
# people for several chunks, so the worker dies with some sent, one chunk in flight and the
# rest not yet claimed.
SEND_CHUNK = SmtpSender.in_flight
RESPONDENTS = 2 * SEND_CHUNK + 4  # one batch of the tests' 50


@pytest.fixture
def start_worker(database_urls, redis_server, smtp_server, tmp_path):
    """Starts real `python -m shared.worker <service>` processes; panel's mail the fake SMTP
    server."""
    env = {**os.environ, "REDIS_URL": redis_server.url, "RELAY_INTERVAL_SECONDS": "0.1",
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
           "SMTP_STARTTLS": "false", "DELIVERY_BATCH_SIZE": "1000",
           "FEEDBACK_URL": "http://feedback.test", "SURVEYS_URL": "http://surveys.test"}
    env.update({f"{name.upper()}_DATABASE_URL": url for name, url in database_urls.items()})
    env.pop("SMS_GATEWAY_URL", None)
    started: list[tuple[subprocess.Popen, Path]] = []
    redis = Redis.from_url(redis_server.url)

    def start(service: str = "panel") -> subprocess.Popen:
        log_path = tmp_path / f"{service}-worker-{len(started)}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "shared.worker", service],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((process, log_path))
        wait_for(lambda: any(w.pid == process.pid for w in Worker.all(connection=redis)))
        return process

    yield start
    for process, _ in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, log_path in started:
        returncode = process.wait(timeout=30)
        assert returncode in (0, -signal.SIGKILL), log_path.read_text()[-3000:]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def kill_mid_job(process: subprocess.Popen) -> None:
    """SIGKILL the worker running its job, and its scheduler: nothing gets to clean up."""
    for pid in [*children(process.pid), process.pid]:
        os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def recover_abandoned_jobs(redis: Redis, queue_name: str, later: float) -> None:
    """What RQ does by itself once the dead worker's heartbeat lapses (a minute or so): a
    maintenance pass hands the abandoned job back for a retry, and the scheduler enqueues it.
    Run here with the clock moved on, rather than waiting out the heartbeat."""
    queue = queue_for(queue_name, redis)
    StartedJobRegistry(queue=queue).cleanup(timestamp=later)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_jobs_to_schedule(int(later)):
        queue.enqueue_job(Job.fetch(job_id, connection=redis, serializer=JSONSerializer))
        scheduled.remove(job_id)


def test_each_respondent_is_told_once_when_the_worker_dies_mid_batch(
        apps, clients, pump, smtp_server, start_worker):
    keys = setup_agencies(apps, pump)
    people = add_members(clients["panel"], keys["council"]["panel_manager"], RESPONDENTS)
    close_survey(pump, {"Mornings": RESPONDENTS}, sponsors=("council",),
                 respondent_refs=[p["member_ref"] for p in people])
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
    pump.relay("feedback")
    pump.work("feedback")  # feedback's worker writes the batch for panel ...
    assert pump.relay("feedback") == 1  # ... one batch for everyone, now on the panel queue

    smtp_server.store.reply_delay = 0.5
    first = start_worker()
    # The second chunk is all handed over and awaits the server's answers (held 0.5 s).
    wait_for(lambda: len(smtp_server.messages) >= 2 * SEND_CHUNK, every=0.02)
    kill_mid_job(first)
    sent_before = len(smtp_server.messages)
    assert SEND_CHUNK < sent_before < RESPONDENTS, "the worker died in the middle of the batch"

    smtp_server.store.reply_delay = 0.0
    start_worker()
    recover_abandoned_jobs(pump.redis, "panel", later=time.time() + 300)
    wait_for(lambda: len(smtp_server.messages) >= RESPONDENTS)
    wait_for(lambda: no_jobs_left(queue_for("panel", pump.redis)))  # anything sent twice is in

    told = [m["To"] for m in smtp_server.messages if "You said, we did" in m["Subject"]]
    assert len(told) == RESPONDENTS
    assert sorted(told) == sorted(p["email"] for p in people)
    with apps["panel"].app_context(), new_session() as session:
        statuses = session.scalars(select(Delivery.status).where(
            Delivery.template == "outcome")).all()
    # The messages in flight when the worker died stay claimed, never sent again.
    assert len(statuses) == RESPONDENTS and statuses.count("sending") <= SEND_CHUNK
    assert statuses.count("sent") + statuses.count("sending") == RESPONDENTS


def outcome_batches(feedback_app) -> list[dict]:
    with feedback_app.app_context(), new_session() as session:
        bodies = session.scalars(select(Outbox.body).where(Outbox.type == "panel.deliver")).all()
    return [json.loads(body)["payload"] for body in bodies]


def writing(database_url: str) -> bool:
    """Whether a transaction that has written is open on the database, someone else's: on
    SQLite its write lock is held; on PostgreSQL a backend of the database has a transaction
    id (PostgreSQL gives one at a transaction's first write)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.split("///", 1)[1], timeout=0,
                                     isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            connection.close()
    server, database = database_url.replace("+psycopg", "").rsplit("/", 1)
    with psycopg.connect(f"{server}/{database}", autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
            (database,)).fetchone()[0] > 0


def test_feedback_worker_killed_mid_fan_out_leaves_nothing_half_done_and_the_retry_tells_all(
        apps, clients, pump, start_worker, database_urls):
    keys = setup_agencies(apps, pump)
    respondents = 12000  # a fan-out long enough to catch it inside its transaction
    refs = close_survey(pump, {"Mornings": respondents}, sponsors=("council",))
    officer = keys["council"]["officer"]
    report = only_report(clients["feedback"], officer)
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
    # feedback.report_published, for the worker, and surveys.staff_action, for the audit log
    assert pump.relay("feedback") == 2

    queue = queue_for("feedback", pump.redis)
    [fan_out] = queue.job_ids
    first = start_worker("feedback")
    # The fan-out's one transaction has begun (its inbox row is written first): kill it there.
    wait_for(lambda: fan_out in StartedJobRegistry(queue=queue).get_job_ids()
             and writing(database_urls["feedback"]), every=0.002)
    kill_mid_job(first)
    # Killed inside its one transaction: not one batch written, nobody marked told.
    assert outcome_batches(apps["feedback"]) == []

    start_worker("feedback")
    recover_abandoned_jobs(pump.redis, "feedback", later=time.time() + 300)
    wait_for(lambda: len(outcome_batches(apps["feedback"])) == respondents // 1000, timeout=120)
    wait_for(lambda: no_jobs_left(queue))  # a second fan-out would have written its batches
    batches = outcome_batches(apps["feedback"])
    told = [r["member_ref"] for batch in batches for r in batch["recipients"]]
    assert len(batches) == 12 and sorted(told) == sorted(refs)
    with apps["feedback"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Respondent).where(
            Respondent.notified_at.is_(None))) == 0
