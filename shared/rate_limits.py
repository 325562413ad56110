"""Fixed-window rate limits counted in Redis, shared by every web process of a service.

Built on `limits` (the package flask-limiter is built on), called directly: at most one round
trip to Redis per counted request and nothing else. A limit may let each process count a
small share of it before telling Redis (`local_share`): on the answer page, the busiest write
there is, most addresses post once or twice a window and never need the round trip. A process
tells Redis as soon as the count it knows (Redis's at its last report plus its own since)
would pass the limit, and then of every post, and Redis's count decides. Across P processes an
address gets at most P x (share - 1) posts past the limit in a window; with one process, or a
share of one post, the limit is exact. When Redis
cannot be reached the request goes through and the failure is logged: nobody is turned away
because Redis is down.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


# "60 per minute" read from config at every hit, parsed once per distinct text.
_parse = functools.lru_cache(maxsize=64)(parse)


@dataclass(frozen=True)
class Refusal:
    """A request past its limit, and how long until the window lets it through."""

    retry_after_seconds: int


@dataclass
class _Count:
    """One key's count in this process: since when, not yet told to Redis, and Redis's total
    at the last report."""

    started: float
    unsent: int = 0
    known: int = 0


class RateLimit:
    """One named limit ("60 per minute", read from config at each hit) over keys such as an
    address or an account."""

    PRUNE_AT = 10_000  # keys kept in a process before the ended windows are dropped

    def __init__(self, redis: Redis, name: str, limit: Callable[[], str],
                 local_share: float = 0.0) -> None:
        self._storage = RedisStorage("redis://", connection_pool=redis.connection_pool,
                                     key_prefix="civicpanel-limits")
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._name = name
        self._limit = limit
        self._local_share = local_share
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> Refusal | None:
        """Count one request for this key: None while within the limit, else the refusal."""
        item = _parse(self._limit())
        every = max(1, int(item.amount * self._local_share))
        now = time.time()
        with self._lock:
            count = self._count_of(f"{item}/{key}", now, item.get_expiry())
            count.unsent += 1
            if count.unsent < every and count.known + count.unsent <= item.amount:
                return None
            sending, count.unsent = count.unsent, 0
        try:
            total = self._storage.incr(item.key_for(self._name, key), item.get_expiry(),
                                       amount=sending)
            if total <= item.amount:
                count.known = total
                return None
            reset_at = self._limiter.get_window_stats(item, self._name, key).reset_time
        except RedisError:
            log.warning("rate limit %s not counted: Redis is unavailable", self._name,
                        exc_info=True)
            return None
        # Past the limit, every further post is told to Redis, which has the last word.
        count.known = total
        return Refusal(retry_after_seconds=max(1, int(reset_at - time.time())))

    def _count_of(self, key: str, now: float, window: int) -> _Count:
        count = self._counts.get(key)
        if count is None or now >= count.started + window:
            if len(self._counts) >= self.PRUNE_AT:
                self._counts = {k: c for k, c in self._counts.items()
                                if now < c.started + window}
            count = self._counts[key] = _Count(started=now)
        return count
