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
    """Whether an RQ queue has nothing waiting, running or scheduled: every job is done."""
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0 \
        and ScheduledJobRegistry(queue=queue).count == 0
