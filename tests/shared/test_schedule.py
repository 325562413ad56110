"""Periodic jobs: registered once however many workers start, and each run schedules the next."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from shared.schedule import (
    RUNNER,
    PeriodicJob,
    periodic_jobs,
    register_periodic_jobs,
    schedule_next,
    scheduled_runs,
)
from tests.pump import BurstWorker

RUNS_KEY = "test:periodic-runs"


def count_a_run() -> int:
    """A periodic job for this test: counts its runs in Redis."""
    from rq import get_current_job

    return get_current_job().connection.incr(RUNS_KEY)


@pytest.fixture
def redis(redis_server):
    connection = Redis.from_url(redis_server.url)
    yield connection
    connection.flushdb()


def test_starting_workers_twice_schedules_each_periodic_job_once(redis):
    jobs = periodic_jobs("surveys")
    assert jobs, "surveys declares its periodic jobs"
    now = time.time()
    first = register_periodic_jobs("surveys", redis, now=now)
    second = register_periodic_jobs("surveys", redis, now=now)
    assert len(first) == len(jobs) and second == []
    assert sorted(scheduled_runs(redis, "surveys")) == sorted(first)


def test_a_run_calls_the_job_and_schedules_the_next_one(redis):
    job = PeriodicJob("tests.shared.test_schedule.count_a_run", 3600)
    queue = Queue("periodic-test", connection=redis, serializer=JSONSerializer)
    queue.enqueue(RUNNER, "periodic-test", job.job_path, job.interval)
    BurstWorker([queue], connection=redis, serializer=JSONSerializer).work(burst=True)
    assert int(redis.get(RUNS_KEY)) == 1
    next_run = job.job_id("periodic-test", job.next_slot(time.time()))
    assert scheduled_runs(redis, "periodic-test") == [next_run]
    # A worker starting now finds the next run already there.
    assert schedule_next(redis, "periodic-test", job) is None



def test_the_same_shared_job_is_scheduled_once_in_each_service(redis):
    """Every service prunes its own bus tables with one shared job: one run per service."""
    now = time.time()
    for service in ("panel", "surveys", "feedback"):
        register_periodic_jobs(service, redis, now=now)
    prune = PeriodicJob("shared.retention.prune_bus", 24 * 3600)
    runs = {service: [r for r in scheduled_runs(redis, service)
                      if r == prune.job_id(service, prune.next_slot(now))]
            for service in ("panel", "surveys", "feedback")}
    assert all(len(found) == 1 for found in runs.values()), runs
    assert len({found[0] for found in runs.values()}) == 3
