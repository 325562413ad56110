"""The queue worker of one service: an RQ worker (JSON, with scheduler) that also relays its outbox.

Run as ``python -m shared.worker <service>``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import threading

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer
from sqlalchemy.orm import configure_mappers

from shared.config import SERVICES
from shared.schedule import register_periodic_jobs

log = logging.getLogger(__name__)

# How often RQ's maintenance pass (re-queueing jobs of dead workers, taking over the
# scheduler of a dead worker) may run. It runs between jobs, and while idle each time the
# blocking dequeue times out, which is WORKER_TTL_SECONDS - 15 s in RQ: 5 s.
MAINTENANCE_INTERVAL_SECONDS = 10
WORKER_TTL_SECONDS = 20
# A busy worker renews its job's lease this often; a job whose lease ran out HEARTBEAT_GRACE
# seconds after the last renewal belongs to a dead worker.
JOB_MONITORING_INTERVAL_SECONDS = 5
HEARTBEAT_GRACE_SECONDS = 15
# Waits between tries to reach Redis again after it went away under the worker.
RECONNECT_FIRST_WAIT_SECONDS = 1.0
RECONNECT_MAX_WAIT_SECONDS = 30.0


class ServiceWorker(SimpleWorker):
    """RQ's worker that runs each job in its own process, not in a fork per job: what a job
    opens and keeps (database connections, panel's gateway and mail connections) serves the
    next one, and no job pays for a fork. Each job has an app context of its own, as a fork
    had, and a short lease that a thread renews while the job runs; it remembers being asked
    to stop (a stop waits for the job under way)."""

    stop_asked = False

    def __init__(self, *args, app: Flask, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app

    def get_heartbeat_ttl(self, job: Job) -> int:
        # RQ's own lease for a job run in the worker is its timeout plus a minute, so a dead
        # worker's job waited that long; renewed every few seconds, the lease can be short.
        return self.job_monitoring_interval + HEARTBEAT_GRACE_SECONDS

    def execute_job(self, job: Job, queue: Queue) -> None:
        finished = threading.Event()
        renewing = threading.Thread(target=self._renew_lease, args=(job, finished),
                                    daemon=True, name="job-lease")
        renewing.start()
        try:
            with self.app.app_context():
                super().execute_job(job, queue)
        finally:
            finished.set()
            renewing.join()

    def _renew_lease(self, job: Job, finished: threading.Event) -> None:
        """Renew the job's lease (and the worker's) every job_monitoring_interval until the
        job is done, as RQ's forking worker does while it waits on its work-horse."""
        while not finished.wait(self.job_monitoring_interval):
            if getattr(self, "execution", None) is None:
                continue
            try:
                self.maintain_heartbeats(job)
            except RedisError as exc:  # the lease lapses; the job's own Redis calls fail too
                log.warning("job %s: lease not renewed: %s", job.id, exc)

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)


class OutboxRelay:
    """The worker's relay thread: pushes the service's outbox to Redis pass after pass.

    The worker forks RQ's scheduler once (its jobs run in the worker itself). A child has only
    the forking thread, so any lock another thread held at the fork stays held in the child
    for ever: SQLAlchemy's mapper configuration, a connection pool's, a driver's. So the
    process never forks during a pass: each pass holds `passing`, and a fork takes it first
    (os.register_at_fork), waiting for the pass under way to end. Between passes the thread
    holds nothing a child needs.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.stopping = threading.Event()
        self.passing = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True,
                                       name=f"{app.config['SERVICE_NAME']}-outbox-relay")
        os.register_at_fork(before=self.passing.acquire,
                            after_in_parent=self.passing.release,
                            after_in_child=self.passing.release)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        interval = self.app.config["RELAY_INTERVAL_SECONDS"]
        with self.app.app_context():
            while not self.stopping.is_set():
                with self.passing:
                    relayed = self._relay_once()
                if relayed == 0:
                    self.stopping.wait(interval)

    def _relay_once(self) -> int:
        try:
            with self.app.extensions["database"].sessions() as session:
                return self.app.extensions["bus"].relay(session)
        except Exception:  # noqa: BLE001 - the relay must outlive a bad pass
            log.exception("outbox relay pass failed")
            return 0


def create_service_app(service: str) -> Flask:
    return importlib.import_module(f"services.{service}").create_app()


def warm_up(service: str) -> None:
    """Do once, before any thread starts, what the first job would otherwise do first:
    configure the ORM's mappers, import the handlers and run their own `warm_up` if they have
    one (panel compiles its message templates), so no thread does it while another forks."""
    jobs = importlib.import_module(f"services.{service}.jobs")
    configure_mappers()
    getattr(jobs, "warm_up", lambda: None)()


def run(service: str, burst: bool = False) -> None:
    app = create_service_app(service)
    warm_up(service)
    relay = OutboxRelay(app)
    connection = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        relay.start()
        try:
            work(app, service, connection, burst=burst)
        finally:
            relay.stop()


def work(app: Flask, service: str, connection: Redis, burst: bool = False) -> None:
    """Run RQ's worker until asked to stop. When Redis goes away under it (RQ's worker quits
    when Redis fails mid-job), wait for Redis with a growing wait and start a new one."""
    stopped = threading.Event()
    while True:
        worker = None
        try:
            register_periodic_jobs(service, connection)
            worker = ServiceWorker(
                [service], connection=connection, serializer=JSONSerializer,
                maintenance_interval=MAINTENANCE_INTERVAL_SECONDS, worker_ttl=WORKER_TTL_SECONDS,
                job_monitoring_interval=JOB_MONITORING_INTERVAL_SECONDS, app=app,
            )
            worker.work(burst=burst, with_scheduler=True)
            if burst or worker.stop_asked:
                return
            log.warning("worker %s quit without being asked to; starting again", service)
        except RedisError as exc:
            if worker is not None and worker.stop_asked:
                return
            log.warning("worker %s lost Redis: %s; starting again once it answers", service, exc)
        # RQ's signal handlers belong to the worker that quit; a stop asked from now is ours.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopped.set())
        wait = RECONNECT_FIRST_WAIT_SECONDS
        while not stopped.wait(wait) and not _reachable(connection):
            wait = min(wait * 2, RECONNECT_MAX_WAIT_SECONDS)
        if stopped.is_set():
            return


def _reachable(connection: Redis) -> bool:
    try:
        return bool(connection.ping())
    except RedisError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    args = parser.parse_args(argv)
    run(args.service, burst=args.burst)


if __name__ == "__main__":
    main()
