"""Rate limits counted in real Redis, by one process or several sharing the count."""

from __future__ import annotations

from redis import Redis

from shared.rate_limits import RateLimit


def _allowed(limits: list[RateLimit], posts: int, key: str = "198.51.100.7") -> int:
    """Posts from one address spread over these processes in turn: how many went through."""
    return sum(limits[i % len(limits)].hit(key) is None for i in range(posts))


def test_one_process_counting_locally_stops_at_the_limit_exactly(redis_server):
    redis = Redis.from_url(redis_server.url)
    limit = RateLimit(redis, "answers-one", lambda: "100 per minute", local_share=0.05)
    assert _allowed([limit], 150) == 100
    refusal = limit.hit("198.51.100.7")
    assert refusal is not None and 1 <= refusal.retry_after_seconds <= 60
    # Another address has its own count.
    assert limit.hit("198.51.100.8") is None


def test_processes_sharing_a_limit_stop_a_script_within_their_local_shares(redis_server):
    redis = Redis.from_url(redis_server.url)
    processes = [RateLimit(redis, "answers-many", lambda: "100 per minute", local_share=0.05)
                 for _ in range(4)]
    allowed = _allowed(processes, 400)
    # Each process may hold back at most share - 1 = 4 posts it has not told Redis of yet.
    assert 100 <= allowed <= 100 + 4 * 4


def test_a_limit_without_local_share_tells_redis_of_every_post(redis_server):
    redis = Redis.from_url(redis_server.url)
    processes = [RateLimit(redis, "sign-in", lambda: "5 per minute") for _ in range(3)]
    assert _allowed(processes, 12) == 5
