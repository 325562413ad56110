"""Waiting on a condition that real processes (workers, servers) bring about."""

from __future__ import annotations

import time


def wait_for(check, timeout: float = 60.0, every: float = 0.05):
    """The first true value of `check()`, asked every `every` seconds; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def no_jobs_left(queue) -> bool:
    """Whether an RQ queue has no job waiting, running or scheduled for a retry: every job
    it was given is done (the periodic runs a worker keeps scheduled do not count)."""
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0 \
        and all(job_id.startswith("periodic-") for job_id in scheduled)
