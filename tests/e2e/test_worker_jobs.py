"""How a real `python -m shared.worker` runs its jobs: in its own process, one after another,
with what one job opened (panel's mail sessions) serving the next, and a job longer than its
20 s lease keeping it while its worker lives."""

from __future__ import annotations

import time

from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer

from services.panel.delivery import SmtpSender
from shared.bus import RETRY
from shared.db import new_session
from shared.worker import HEARTBEAT_GRACE_SECONDS, JOB_MONITORING_INTERVAL_SECONDS
from tests.e2e.test_faults import outbox_pending, panel_statuses
from tests.panel.factories import make_members
from tests.panel.test_delivery_faults import reported
from tests.panel.test_joining import CONTEXTS
from tests.waiting import wait_for

SEND_CHUNK = SmtpSender.in_flight
LEASE_SECONDS = JOB_MONITORING_INTERVAL_SECONDS + HEARTBEAT_GRACE_SECONDS


def deliver_batch(apps, pump, refs, prefix: str) -> str:
    """A batch for panel through surveys' outbox, on panel's queue: the id of its job."""
    with apps["surveys"].app_context(), new_session() as session:
        job_id = apps["surveys"].extensions["bus"].send(session, "panel.deliver", {
            "template": "invitation", "context": CONTEXTS["invitation"],
            "recipients": [{"member_ref": ref, "delivery_ref": f"{prefix}:{i}",
                            "link": "http://surveys.test/r/x"} for i, ref in enumerate(refs)]})
        session.commit()
    assert pump.relay("surveys") == 1
    return job_id


def test_one_workers_batches_go_out_over_the_mail_sessions_of_the_first(
        apps, pump, workers, smtp_server):
    refs = make_members(apps["panel"], 2 * SEND_CHUNK)
    workers()
    deliver_batch(apps, pump, refs[:SEND_CHUNK], "first")
    wait_for(lambda: panel_statuses(apps["panel"])["sent"] == SEND_CHUNK)
    deliver_batch(apps, pump, refs[SEND_CHUNK:], "second")
    wait_for(lambda: panel_statuses(apps["panel"])["sent"] == 2 * SEND_CHUNK)
    assert len(smtp_server.messages) == 2 * SEND_CHUNK
    # Each job in a fork of its own opened a session a thread again: twice as many.
    assert smtp_server.sessions <= SmtpSender.in_flight


def test_a_job_longer_than_its_lease_runs_once_while_its_worker_lives(
        apps, pump, workers, smtp_server, redis_server):
    count = 3 * SEND_CHUNK
    refs = make_members(apps["panel"], count)
    # Three chunks, each waiting on the mail server: the job outlasts its lease.
    smtp_server.store.reply_delay = LEASE_SECONDS / 2.5
    workers()
    workers()  # a second worker, whose maintenance would take a job whose lease lapsed
    started = time.monotonic()
    job_id = deliver_batch(apps, pump, refs, "long")
    wait_for(lambda: panel_statuses(apps["panel"])["sent"] == count, timeout=120)
    took = time.monotonic() - started
    assert took > LEASE_SECONDS + 2, f"the job took {took:.1f} s, within its lease"
    job = Job.fetch(job_id, connection=Redis.from_url(redis_server.url),
                    serializer=JSONSerializer)
    wait_for(lambda: job.get_status(refresh=True) == "finished")
    assert job.retries_left == RETRY.max  # never handed back as abandoned, never retried
    addresses = [m["To"] for m in smtp_server.messages]
    assert len(addresses) == count == len(set(addresses))  # nobody twice, nobody missed
    wait_for(lambda: outbox_pending(apps["panel"]) == 0)  # the workers relay its reports
    # Each told "sent" (SQLite's two relays may both push a report: surveys' inbox takes it once).
    assert {ref: set(states) for ref, states in reported(redis_server).items()} == {
        f"long:{i}": {"sent"} for i in range(count)}
