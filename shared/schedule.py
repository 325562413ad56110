"""Periodic jobs: declared as data per service, kept scheduled on RQ's scheduler by the workers.

A service lists its periodic work in ``services/<svc>/schedule.py`` as
``PERIODIC_JOBS = [PeriodicJob("services.<svc>.fieldwork.close_ended_surveys", 300), ...]``.
Each job function takes no required argument (tests call it with an injected ``now``).

Every run is an RQ job scheduled at the next multiple of its interval, with an id made of a
hash of the definition and that slot (as redash names its periodic jobs), so any number of
workers registering the same definitions at start schedule each run once. A run schedules the
following one whatever the outcome, so a failing job keeps its rhythm.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis
from rq import get_current_job
from rq.exceptions import DuplicateJobError
from rq.registry import ScheduledJobRegistry

from shared.bus import FAILURE_TTL_SECONDS, queue_for

log = logging.getLogger(__name__)

RUNNER = "shared.schedule.run_periodic"
# A run's result is only worth keeping until the next few runs.
RESULT_TTL_SECONDS = 3600


@dataclass(frozen=True)
class PeriodicJob:
    """A function (dotted path) to run every `interval` seconds on its service's queue."""

    job_path: str
    interval: int

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError(f"{self.job_path}: interval must be at least 1 second")

    def digest(self, queue_name: str) -> str:
        # The queue is part of it: services may run the same shared job, and RQ's job ids
        # are one namespace for every queue.
        text = f"{queue_name}|{self.job_path}|{self.interval}"
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def next_slot(self, now: float) -> int:
        """The index of the next interval boundary strictly after `now` (epoch seconds)."""
        return math.floor(now / self.interval) + 1

    def job_id(self, queue_name: str, slot: int) -> str:
        return f"periodic-{self.digest(queue_name)}-{slot}"


def periodic_jobs(service: str) -> list[PeriodicJob]:
    """The periodic jobs a service declares; none when it has no schedule module."""
    try:
        module = importlib.import_module(f"services.{service}.schedule")
    except ModuleNotFoundError as exc:
        if exc.name != f"services.{service}.schedule":
            raise
        return []
    return [job if isinstance(job, PeriodicJob) else PeriodicJob(*job)
            for job in module.PERIODIC_JOBS]


def schedule_next(connection: Redis, queue_name: str, job: PeriodicJob,
                  now: float | None = None) -> str | None:
    """Schedule the job's next run; the run's id when this call scheduled it, None if it was."""
    slot = job.next_slot(time.time() if now is None else now)
    queue = queue_for(queue_name, connection)
    rq_job = queue.create_job(
        RUNNER, args=(queue_name, job.job_path, job.interval), job_id=job.job_id(queue_name, slot),
        result_ttl=RESULT_TTL_SECONDS, failure_ttl=FAILURE_TTL_SECONDS,
        description=f"periodic {job.job_path} every {job.interval}s",
    )
    try:
        queue.schedule_job(rq_job, datetime.fromtimestamp(slot * job.interval, UTC), unique=True)
    except DuplicateJobError:
        return None
    return rq_job.id


def register_periodic_jobs(service: str, connection: Redis,
                           now: float | None = None) -> list[str]:
    """Make sure each of the service's periodic jobs has its next run scheduled (idempotent)."""
    scheduled = []
    for job in periodic_jobs(service):
        job_id = schedule_next(connection, service, job, now)
        if job_id:
            scheduled.append(job_id)
            log.info("scheduled %s every %ss", job.job_path, job.interval)
    return scheduled


def scheduled_runs(connection: Redis, queue_name: str) -> list[str]:
    """Ids of the periodic runs waiting on the queue's scheduler, for checks and tests."""
    registry = ScheduledJobRegistry(queue=queue_for(queue_name, connection))
    return [job_id for job_id in registry.get_job_ids() if job_id.startswith("periodic-")]


def run_periodic(queue_name: str, job_path: str, interval: int):
    """The RQ job of one run: call the function, then schedule the next run."""
    job = PeriodicJob(job_path, interval)
    module_name, _, function_name = job_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), function_name)()
    finally:
        current = get_current_job()
        connection = current.connection if current else None
        if connection is not None:
            schedule_next(connection, queue_name, job)
