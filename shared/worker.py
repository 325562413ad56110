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
from rq import Worker
from rq.job import Job
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


class ServiceWorker(Worker):
    """RQ's forking worker with a short job lease, and that remembers being asked to stop."""

    stop_asked = False

    def get_heartbeat_ttl(self, job: Job) -> int:
        # RQ adds 60 s of grace to each lease, so a dead worker's job waited minutes.
        return self.job_monitoring_interval + HEARTBEAT_GRACE_SECONDS

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)


class OutboxRelay:
    """The worker's relay thread: pushes the service's outbox to Redis pass after pass.

    The worker forks a work-horse per job (and RQ's scheduler once). A child has only the
    forking thread, so any lock another thread held at the fork stays held in the child for
    ever: SQLAlchemy's mapper configuration, a connection pool's, a driver's. So the process
    never forks during a pass: each pass holds `passing`, and a fork takes it first
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
    """Do once, before any thread starts, what every job would otherwise do first: configure
    the ORM's mappers, import the handlers and run their own `warm_up` if they have one
    (panel compiles its message templates), so no child of a fork has to."""
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
            work(service, connection, burst=burst)
        finally:
            relay.stop()


def work(service: str, connection: Redis, burst: bool = False) -> None:
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
                job_monitoring_interval=JOB_MONITORING_INTERVAL_SECONDS,
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
        _wait_for_horse(worker)
        wait = RECONNECT_FIRST_WAIT_SECONDS
        while not stopped.wait(wait) and not _reachable(connection):
            wait = min(wait * 2, RECONNECT_MAX_WAIT_SECONDS)
        if stopped.is_set():
            return


def _wait_for_horse(worker: ServiceWorker | None) -> None:
    """A job running when the worker quit finishes (its effects are in the database) before
    the next worker takes another: one job at a time, as ever."""
    pid = worker.horse_pid if worker is not None else 0
    if pid:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


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
