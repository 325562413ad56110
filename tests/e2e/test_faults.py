"""Faults a running system meets, met by real `python -m shared.worker` processes: starts with
a backlog, a worker SIGKILLed mid-batch, Redis killed mid-job, the database gone under a citizen."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

from services.panel.delivery import SmtpSender
from services.panel.models import Delivery
from services.panel.sending import UNCONFIRMED_AFTER, sweep_unconfirmed_deliveries
from shared.bus import utcnow
from shared.db import Database, new_session
from shared.worker import HEARTBEAT_GRACE_SECONDS, JOB_MONITORING_INTERVAL_SECONDS
from tests.conftest import BACKEND
from tests.e2e.conftest import kill_group
from tests.fakes.smtp_server import free_port
from tests.panel.factories import make_members
from tests.panel.test_delivery_faults import reported
from tests.panel.test_joining import _deliver
from tests.surveys.test_respond import launched, page_form, saved_responses
from tests.waiting import wait_for

SEND_CHUNK = SmtpSender.in_flight
# What docs/architecture.md promises: a dead worker's job runs again within a minute.
RERUN_WITHIN_SECONDS = 60
STARTS = 20
AT_ONCE = 4
STALL_AFTER_SECONDS = 30  # a start that has not worked off its backlog by then has stalled


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def kill_like_a_dead_machine(process: subprocess.Popen) -> None:
    """SIGKILL the worker running its job and its scheduler: nothing cleans up."""
    for pid in children(process.pid):
        os.kill(pid, signal.SIGKILL)
    kill_group(process)
    process.wait(timeout=10)


def panel_statuses(app) -> Counter:
    with app.app_context(), new_session() as session:
        return Counter(dict(session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)).all()))


def outbox_pending(app) -> int:
    with app.app_context(), new_session() as session:
        return app.extensions["bus"].pending(session)


def test_a_worker_started_with_a_backlog_never_stalls(apps, pump, workers):
    refs = make_members(apps["panel"], 3)
    durations = []
    for round_ in range(STARTS // AT_ONCE):
        # Jobs wait on the queue and reports in the outbox: each worker's relay thread starts
        # its first pass as its scheduler forks, and they start together, under load.
        for batch in range(2 * AT_ONCE):
            _deliver(apps, "invitation", *refs, ref_prefix=f"round{round_}-{batch}")
        pump.relay("surveys")
        began = time.monotonic()
        processes = [workers("--burst", registered=False) for _ in range(AT_ONCE)]
        for number, process in enumerate(processes):
            try:
                returncode = process.wait(timeout=STALL_AFTER_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"start {round_ * AT_ONCE + number + 1} of {STARTS} stalled:\n"
                            f"{workers.log(process)[-3000:]}")
            assert returncode == 0, workers.log(process)[-3000:]
        durations.append(time.monotonic() - began)
    assert panel_statuses(apps["panel"]) == {"sent": STARTS * 2 * len(refs)}
    print(f"\n{STARTS}/{STARTS} starts without a stall, {AT_ONCE} at a time; slowest round "
          f"{max(durations):.1f} s")


def test_a_deliver_job_killed_mid_batch_is_run_again_soon_and_every_report_reaches_surveys(
        apps, pump, workers, smtp_server, redis_server):
    count = 2 * SEND_CHUNK + 8
    refs = make_members(apps["panel"], count)
    smtp_server.store.reply_delay = 0.5
    first = workers()
    _deliver(apps, "invitation", *refs)
    pump.relay("surveys")
    # The second chunk is all handed over and awaits the server's answers (held 0.5 s).
    wait_for(lambda: len(smtp_server.messages) >= 2 * SEND_CHUNK, every=0.02)
    kill_like_a_dead_machine(first)
    killed_at = time.monotonic()
    assert panel_statuses(apps["panel"]) == {"sent": SEND_CHUNK, "sending": SEND_CHUNK,
                                             "pending": count - 2 * SEND_CHUNK}

    smtp_server.store.reply_delay = 0.0
    workers()  # another worker, started after the first died, finds its job and runs it
    wait_for(lambda: panel_statuses(apps["panel"])["sent"] == count - SEND_CHUNK,
             timeout=RERUN_WITHIN_SECONDS)
    rerun_after = time.monotonic() - killed_at
    # The lease of the dead worker's job is 20 s; the new worker's maintenance finds it at most
    # 15 s later and hands it back at once.
    assert rerun_after < JOB_MONITORING_INTERVAL_SECONDS + HEARTBEAT_GRACE_SECONDS + 20

    # The chunk in flight at the kill may have gone: swept up as unconfirmed, never sent again.
    with apps["panel"].app_context():
        later = utcnow() + UNCONFIRMED_AFTER + timedelta(minutes=1)
        assert sweep_unconfirmed_deliveries(now=later) == SEND_CHUNK
    wait_for(lambda: outbox_pending(apps["panel"]) == 0)  # the live worker relays the reports
    told = reported(redis_server)
    assert sorted(told) == sorted(f"d:{i}" for i in range(count))
    assert Counter(status for states in told.values() for status in states) == {
        "sent": count - SEND_CHUNK, "unconfirmed": SEND_CHUNK}
    addresses = [m["To"] for m in smtp_server.messages]
    assert len(addresses) == len(set(addresses))  # nobody got it twice
    print(f"\nthe dead worker's job ran again {rerun_after:.1f} s after the kill")


def test_a_worker_carries_on_after_redis_is_killed_mid_job(apps, pump, workers, smtp_server,
                                                           redis_server):
    refs = make_members(apps["panel"], 3 * SEND_CHUNK)
    smtp_server.store.reply_delay = 0.5
    worker = workers()
    _deliver(apps, "invitation", *refs[:2 * SEND_CHUNK])
    pump.relay("surveys")
    wait_for(lambda: smtp_server.messages)
    try:
        redis_server.kill()
        # The job needs no Redis to send: it finishes, its reports wait in the outbox.
        wait_for(lambda: panel_statuses(apps["panel"]) == {"sent": 2 * SEND_CHUNK})
        wait_for(lambda: "lost Redis" in workers.log(worker), timeout=30)
    finally:
        if redis_server.process is None:
            redis_server.start()  # empty, as a crashed Redis without persistence comes back
    assert worker.poll() is None, workers.log(worker)[-3000:]
    redis = Redis.from_url(redis_server.url)
    wait_for(lambda: any(w.pid == worker.pid for w in Worker.all(connection=redis)))
    wait_for(lambda: outbox_pending(apps["panel"]) == 0)
    assert sorted(reported(redis_server)) == sorted(f"d:{i}" for i in range(2 * SEND_CHUNK))

    # And the same process takes new work.
    _deliver(apps, "invitation", *refs[2 * SEND_CHUNK:], ref_prefix="after")
    wait_for(lambda: pump.relay("surveys") or outbox_pending(apps["surveys"]) == 0)
    wait_for(lambda: panel_statuses(apps["panel"]) == {"sent": 3 * SEND_CHUNK})
    assert worker.poll() is None


def unreachable_database_url(tmp_path: Path) -> str:
    if BACKEND == "postgresql":  # nothing listens there: every connection is refused
        return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/surveys"
    gone = tmp_path / "surveys.db"
    gone.mkdir()  # a directory where the file should be: SQLite cannot open it
    return f"sqlite:///{gone}"


def test_answers_sent_while_the_database_is_down_come_back_in_a_503_page_to_send_again(
        apps, clients, pump, monkeypatch, tmp_path, caplog):
    _, officer, tokens = launched(apps, clients, pump, members=1)
    form = page_form(clients["surveys"], tokens[0], feel_safe="4", priority="Police patrols",
                     comments="Brighter lights <please>", action="submit")
    monkeypatch.setitem(apps["surveys"].extensions, "database",
                        Database(unreachable_database_url(tmp_path)))

    down = clients["surveys"].post(f"/r/{tokens[0]}", data=form)
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    assert "answers not saved" in caplog.text
    assert tokens[0] not in caplog.text  # the link is the respondent's key: never logged
    page = down.data.decode()
    assert "Your answers are not saved yet" in page and "Send again" in page
    assert "How safe do you feel after dark?" in page and "4 – Fairly safe" in page
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert kept["csrf_token"]  # the page's own, so the form sends again
    assert {k: v for k, v in kept.items() if k not in ("questionnaire-version", "csrf_token")} == {
        "feel_safe": "4", "priority": "Police patrols",
        "comments": "Brighter lights &lt;please&gt;", "action": "submit", "answer-language": "en"}
    opened = clients["surveys"].get(f"/r/{tokens[0]}")
    assert opened.status_code == 503 and b"Sorry, the service is unavailable" in opened.data
    api = clients["surveys"].get("/api/v1/surveys", headers=officer)
    assert api.status_code == 503
    assert api.json == {"code": 503, "status": "Service Unavailable",
                        "message": "The service cannot reach its database just now. "
                                   "Try again in a minute."}

    monkeypatch.undo()  # the database is back; the citizen presses "Send again"
    again = clients["surveys"].post(f"/r/{tokens[0]}", data={**form, **{
        k: v.replace("&lt;", "<").replace("&gt;", ">") for k, v in kept.items()}})
    assert again.status_code == 303 and again.headers["Location"].endswith("/thanks")
    assert list(saved_responses(apps).values()) == [
        {"feel_safe": "4", "priority": "Police patrols", "comments": "Brighter lights <please>"}]
