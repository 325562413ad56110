"""Distribution: a survey launched to the whole panel until every invitation reaches a gateway.

A panel of synthetic members who prefer SMS, on PostgreSQL; the survey is launched through
the surveys API, and the real worker processes carry it on (panel draws the sample, surveys
makes the invitations in batches, panel sends each through a loopback gateway speaking
Twilio's format). The clock runs from the launch request to the last message accepted by the
gateway. The baseline, in the same run, once every worker has started and is idle, is one lean
asyncio client posting messages straight to the same gateway from another process, as many in
flight as panel keeps: the most the machine gets through that gateway with nothing else to
do, so the ratio says how much of it the whole pipeline (draw, invitations, queues, delivery
log) keeps.
If the launch is not through within the time budget the figures say how far it got and the
projected time. Every member has a number of their own (members' phones are unique): the
first thousand in Ofcom's drama range, the rest just above it, all sent only to the loopback.
Run as `.venv/bin/python bench/distribute.py [--quick]`; prints one JSON line. Sized by
DISTRIBUTE_MEMBERS, DISTRIBUTE_BUDGET_SECONDS, DISTRIBUTE_PANEL_WORKERS and
DISTRIBUTE_SURVEYS_WORKERS; --quick launches to 300 members with one worker of each.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_admin_url, print_result, quick_requested  # noqa: E402
from bench.harness.cpu import CpuMeter  # noqa: E402

WORKER_LOGS = os.environ.get("DISTRIBUTE_WORKER_LOGS")
IN_FLIGHT = 100  # as panel's SMS sender
ACCOUNT_SID, AUTH_TOKEN = "AC" + "0" * 32, "bench-token"


@dataclass(frozen=True)
class Size:
    members: int
    budget_seconds: float
    panel_workers: int
    surveys_workers: int
    baseline_messages: int

    @classmethod
    def full(cls) -> Size:
        return cls(members=int(os.environ.get("DISTRIBUTE_MEMBERS", "100000")),
                   budget_seconds=float(os.environ.get("DISTRIBUTE_BUDGET_SECONDS", "90")),
                   panel_workers=int(os.environ.get("DISTRIBUTE_PANEL_WORKERS", "3")),
                   surveys_workers=int(os.environ.get("DISTRIBUTE_SURVEYS_WORKERS", "1")),
                   baseline_messages=20_000)

    @classmethod
    def quick(cls) -> Size:
        return cls(members=300, budget_seconds=60, panel_workers=1, surveys_workers=1,
                   baseline_messages=500)


def synthetic_phone(index: int) -> str:
    """The index-th member's own number: 07700 900000 onwards, unique for any panel size (E.164
    allows 15 digits); only the loopback gateway ever sees them."""
    return f"+447700{900_000 + index}"


class Gateway:
    """A small, fast loopback gateway (aiohttp) that accepts Twilio-format message creates."""

    def __init__(self):
        self.accepted = 0
        self.last_at = 0.0
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._serve, daemon=True).start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        from aiohttp import web

        async def create(request: web.Request) -> web.Response:
            form = await request.post()
            if not str(form.get("To", "")).startswith("+"):
                return web.json_response({"code": 21211, "status": 400}, status=400)
            self.accepted += 1
            self.last_at = time.perf_counter()
            return web.json_response({"sid": "SM" + secrets.token_hex(16), "status": "queued",
                                      "to": form.get("To")}, status=201)

        async def start() -> None:
            app = web.Application()
            app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", create)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            self._ready.set()

        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(start())
        self._loop.run_forever()


def baseline_rate(gateway: Gateway, messages: int) -> tuple[float, dict[str, float]]:
    """Messages a second one lean client posts straight to the gateway, in another process,
    with as many in flight as panel keeps: the most this machine gets through the gateway
    with nothing else to do (no draw, no database, no queues); and the CPU seconds the
    client and this process (the gateway) used for them."""
    from multiprocessing import get_context

    context = get_context("spawn")
    before = sum(os.times()[:2])
    with context.Pool(1) as pool:
        rate, client_seconds = pool.apply(_post_straight, (gateway.url, messages))
    return rate, {"lean client": round(client_seconds, 1),
                  "bench (gateway)": round(sum(os.times()[:2]) - before, 1)}


def _post_straight(url: str, count: int) -> tuple[float, float]:
    """The lean client: its form bodies encoded as panel's sender encodes them (one urlencode
    a message, no aiohttp form machinery), so it stays the most the gateway can be given."""
    from urllib.parse import urlencode

    import aiohttp

    async def post_all() -> float:
        address = f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        limit = asyncio.Semaphore(IN_FLIGHT)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT),
                                         headers=form) as http:
            async def post(index: int) -> None:
                async with limit, http.post(address, data=urlencode({
                        "To": synthetic_phone(index), "From": "+447700900999",
                        "Body": "civicpanel: have your say on Feeling safe: "
                                "http://surveys.test/r/abcdefghijklmnopqrstuvwxyz"}).encode()
                        ) as response:
                    response.raise_for_status()
                    await response.read()

            started = time.perf_counter()
            await asyncio.gather(*(post(index) for index in range(count)))
            return count / (time.perf_counter() - started)

    cpu = sum(os.times()[:2])
    rate = asyncio.run(post_all())
    return rate, sum(os.times()[:2]) - cpu


def add_panel(url: str, count: int) -> None:
    """Synthetic members who prefer SMS, written in bulk (setting up is not what is measured)."""
    from sqlalchemy import insert

    from services.panel.demo import synthetic_members
    from services.panel.models import Member
    from shared.db import make_engine

    engine = make_engine(url)
    rows = []
    for index, member in enumerate(synthetic_members(count, seed=7)):
        rows.append({"member_ref": str(uuid.uuid4()), "email": None,
                     "phone": synthetic_phone(index), "preferred_channel": "sms",
                     "language": "en", "age_band": member.age_band, "gender": member.gender,
                     "ethnicity": member.ethnicity, "disability": member.disability,
                     "area": member.area, "extra": {}, "status": "active", "source": "bench",
                     "consent_surveys": True, "consent_outcomes": True,
                     "consent_recontact": False})
    with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(Member), rows[start:start + 10_000])
    engine.dispose()


def wait_until_idle(redis_url: str, count: int, surveys_app, timeout: float = 120) -> None:
    """Until `count` workers have registered with RQ (each has built its app and warmed up)
    and nothing waits in surveys' outbox or their queues (the officer's key has reached
    panel). Feedback runs no worker here: what is sent to it stays queued."""
    from redis import Redis
    from rq import Worker

    from shared.bus import queue_for
    from shared.db import new_session
    from tests.waiting import wait_for

    connection = Redis.from_url(redis_url)

    def idle() -> bool:
        with surveys_app.app_context(), new_session() as session:
            pending = surveys_app.extensions["bus"].pending(session)
        queued = sum(queue_for(name, connection).count for name in ("panel", "surveys"))
        return Worker.count(connection=connection) >= count and not pending and not queued

    wait_for(idle, timeout=timeout, every=0.1)


def drop_databases(admin_url: str, names: list[str]) -> None:
    """Dropped side by side: each DROP DATABASE waits for a checkpoint, which on a busy server
    takes seconds, and drops waiting together share one."""
    def drop(name: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(drop, names))


def stop(workers: list[subprocess.Popen]) -> None:
    """Ask each worker to stop; one still busy with a batch after a while is killed."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    admin_url = postgres_admin_url()
    from services import feedback, panel, surveys
    from services.surveys.keys import issue_key
    from services.surveys.models import Agency
    from shared.db import new_session, upgrade_database
    from tests.fakes.redis_server import PrivateRedis
    from tests.scenario import bearer, survey_payload

    suffix = uuid.uuid4().hex[:8]
    names = {name: f"civicpanel_bench_distribute_{name}_{suffix}"
             for name in ("panel", "surveys", "feedback")}
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    urls = {name: f"{base}/{database}" for name, database in names.items()}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for database in names.values():
            admin.execute(f'CREATE DATABASE "{database}"')
    redis = PrivateRedis().start()
    gateway = Gateway()
    workers: list[subprocess.Popen] = []
    try:
        for name, module in (("panel", panel), ("surveys", surveys), ("feedback", feedback)):
            upgrade_database(urls[name], module.MIGRATIONS_DIR)
        add_panel(urls["panel"], size.members)
        env = {**os.environ, "PANEL_DATABASE_URL": urls["panel"],
               "SURVEYS_DATABASE_URL": urls["surveys"], "FEEDBACK_DATABASE_URL": urls["feedback"],
               "REDIS_URL": redis.url, "SMS_GATEWAY_URL": gateway.url,
               "SMS_ACCOUNT_SID": ACCOUNT_SID, "SMS_AUTH_TOKEN": AUTH_TOKEN,
               "SMS_FROM": "+447700900999", "SECRET_KEY": "bench"}
        os.environ.update(env)
        # Started first: their imports (seconds each) overlap this process's own.
        for number, name in enumerate(["surveys"] * size.surveys_workers
                                    + ["panel"] * size.panel_workers):
            # DISTRIBUTE_WORKER_LOGS=<dir> keeps each worker's log there, to see its jobs' times.
            log = open(Path(WORKER_LOGS) / f"{name}-{number}.log", "w") if WORKER_LOGS \
                else subprocess.DEVNULL
            workers.append(subprocess.Popen([sys.executable, "-m", "shared.worker", name],
                                            cwd=ROOT, env=env, stdout=log, stderr=log))
        surveys_app = surveys.create_app()
        with surveys_app.app_context(), new_session() as session:
            session.add(Agency(slug="council", name="Riverside Council"))
            session.flush()
            officer = issue_key(session, surveys_app.extensions["bus"], agency="council",
                                role="officer")
            session.commit()
        # The baseline runs on the machine as the launch finds it: every worker started and
        # idle. Run while they start up (seconds of imports each) it lost half its rate.
        wait_until_idle(redis.url, len(workers), surveys_app)
        baseline, baseline_cpu = baseline_rate(gateway, size.baseline_messages)
        gateway.accepted = 0

        client = surveys_app.test_client()
        created = client.post("/api/v1/surveys", headers=bearer(officer),
                              json=survey_payload(sample_size=size.members,
                                                  channels=["sms_link"]))
        assert created.status_code == 201, created.json
        meter = CpuMeter(
            {"panel workers": [w.pid for w in workers[size.surveys_workers:]],
             "surveys workers": [w.pid for w in workers[:size.surveys_workers]],
             "redis": [redis.process.pid]},
            {name: database for name, database in names.items() if name != "feedback"}).start()
        started = time.perf_counter()
        launched = client.post(f"/api/v1/surveys/{created.json['id']}/launch",
                               headers=bearer(officer))
        assert launched.status_code == 202, launched.json
        invited_at, invitations = None, 0
        with psycopg.connect(urls["surveys"].replace("+psycopg", ""), autocommit=True) as check:
            while (gateway.accepted < size.members
                   and time.perf_counter() - started < size.budget_seconds):
                time.sleep(0.05)  # the clock stops at the gateway's last message, not here
                if invited_at is None:
                    # The newest invitation's id, from the primary key's index: a count(*)
                    # twenty times a second cost the database a tenth of a core or more.
                    invitations = check.execute(
                        "SELECT coalesce(max(id), 0) FROM invitations").fetchone()[0]
                    if invitations >= size.members:
                        invited_at = time.perf_counter() - started
            invitations = check.execute("SELECT count(*) FROM invitations").fetchone()[0]
        accepted = gateway.accepted
        finished_at = gateway.last_at if accepted >= size.members else time.perf_counter()
        cpu = meter.stop()
        elapsed = finished_at - started
    finally:
        stop(workers)
        redis.stop()
        drop_databases(admin_url, list(names.values()))
    done = accepted >= size.members
    rate = accepted / elapsed if elapsed > 0 else 0.0
    ratio = round(rate / baseline, 3) if baseline else None
    projected = elapsed if done else (size.members / rate if rate else float("inf"))
    print_result(
        "distribute",
        {"members": size.members, "accepted": accepted, "all_accepted": done,
         "elapsed_s": round(elapsed, 1),
         # Surveys' own part: the sample drawn and every invitation made and queued.
         "invitations_made": invitations,
         "invitations_made_s": round(invited_at, 1) if invited_at else None,
         "projected_s": round(projected, 1),
         "messages_per_second": round(rate, 1),
         "baseline_gateway_alone_per_second": round(baseline, 1),
         "baseline_gateway_alone_projected_s": round(size.members / baseline, 1),
         # CPU seconds of each process from the launch to the last message, and of the
         # baseline's two processes for its own messages.
         "cpu_seconds": cpu, "baseline_messages": size.baseline_messages,
         "baseline_cpu_seconds": baseline_cpu,
         "panel_workers": size.panel_workers, "surveys_workers": size.surveys_workers,
         "database": "postgresql", "budget_s": size.budget_seconds},
        ratio=ratio,
        goal="a 100,000-member launch through the gateway at >= 0.7 x the lean client's "
             "messages/s in the same run",
        met=done and size.members >= 100_000 and ratio is not None and ratio >= 0.7,
        quick=quick)

if __name__ == "__main__":
    main()
