"""Fixed-window rate limits counted in Redis, shared by every web process of a service.

Built on `limits` (the package flask-limiter is built on), called directly: one round trip to
Redis per counted request and nothing else, which matters on the answer page, the busiest
write there is. When Redis cannot be reached the request goes through and the failure is
logged: nobody is turned away because Redis is down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """A request past its limit, and how long until the window lets it through."""

    retry_after_seconds: int


class RateLimit:
    """One named limit ("60 per minute", read from config at each hit) over keys such as an
    address or an account."""

    def __init__(self, redis: Redis, name: str, limit: Callable[[], str]) -> None:
        storage = RedisStorage("redis://", connection_pool=redis.connection_pool,
                               key_prefix="civicpanel-limits")
        self._limiter = FixedWindowRateLimiter(storage)
        self._name = name
        self._limit = limit

    def hit(self, key: str) -> Refusal | None:
        """Count one request for this key: None while within the limit, else the refusal."""
        item = parse(self._limit())
        try:
            if self._limiter.hit(item, self._name, key):
                return None
            reset_at = self._limiter.get_window_stats(item, self._name, key).reset_time
        except RedisError:
            log.warning("rate limit %s not counted: Redis is unavailable", self._name,
                        exc_info=True)
            return None
        return Refusal(retry_after_seconds=max(1, int(reset_at - time.time())))
