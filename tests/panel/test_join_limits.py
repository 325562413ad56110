"""The join page is rate-limited per client address; Redis being down never blocks a sign-up."""

from __future__ import annotations

from sqlalchemy import func, select

from services import panel
from services.panel.models import Member
from shared.db import new_session
from tests.fakes.redis_server import PrivateRedis
from tests.panel.test_joining import FORM


def sign_up(client, index: int, **changes):
    return client.post("/join", data={**FORM, "email": f"neighbour{index}@example.org",
                                      **changes})


def members(app) -> int:
    with app.app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_sign_ups_from_one_address_stop_at_the_limit_and_mistakes_do_not_count(
        apps, clients, monkeypatch):
    monkeypatch.setitem(apps["panel"].config, "JOIN_RATE_LIMIT", "2 per hour")
    for _ in range(3):  # forms sent back with a mistake cost nothing, so they do not count
        assert sign_up(clients["panel"], 0, area="Riverside").status_code == 400
    assert sign_up(clients["panel"], 1).status_code == 303
    assert sign_up(clients["panel"], 2).status_code == 303
    third = sign_up(clients["panel"], 3)
    assert third.status_code == 429
    assert b"Too many sign-ups from this connection" in third.data
    assert "Retry-After" in third.headers
    assert members(apps["panel"]) == 2
    # Another address has its own count.
    other = clients["panel"].post("/join", data={**FORM, "email": "elsewhere@example.org"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 303 and members(apps["panel"]) == 3


def test_a_sign_up_goes_through_while_redis_is_down(apps, database_urls):
    redis = PrivateRedis().start()
    app = panel.create_app({"DATABASE_URL": database_urls["panel"], "REDIS_URL": redis.url,
                            "TESTING": True, "JOIN_RATE_LIMIT": "1 per hour"})
    try:
        redis.stop()
        first = sign_up(app.test_client(), 1)
        second = sign_up(app.test_client(), 2)
        assert (first.status_code, second.status_code) == (303, 303)
        assert members(app) == 2  # kept, for panel's relay to announce when Redis is back
    finally:
        app.extensions["database"].engine.dispose()


def test_behind_a_trusted_proxy_each_citizen_has_their_own_count(apps, database_urls,
                                                                  redis_server):
    app = panel.create_app({"DATABASE_URL": database_urls["panel"], "REDIS_URL": redis_server.url,
                            "TESTING": True, "JOIN_RATE_LIMIT": "1 per hour",
                            "TRUSTED_PROXIES": 1})
    client = app.test_client()

    def via_proxy(citizen: str, index: int):
        # Every request comes from the proxy's own address; X-Forwarded-For names the citizen.
        return client.post("/join", data={**FORM, "email": f"proxied{index}@example.org"},
                           headers={"X-Forwarded-For": citizen},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"})

    try:
        assert via_proxy("198.51.100.1", 1).status_code == 303
        assert via_proxy("198.51.100.2", 2).status_code == 303
        assert via_proxy("198.51.100.1", 3).status_code == 429
        assert members(app) == 2
    finally:
        app.extensions["database"].engine.dispose()
