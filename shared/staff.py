"""Staff sessions: who is signed in to the console, kept in Redis and shared by every service.

Surveys owns staff users and starts a session when one signs in; the session's id travels in
one cookie (`civicpanel_staff`) that all three services read, since they share a host name
(locally 127.0.0.1 on three ports; deployed, one host name with a path per service). Only a
hash of the id is stored, beside what every service needs to know of the person (name,
agency, role), so panel and feedback never ask surveys who is calling. A session ends after
STAFF_IDLE_MINUTES without a request, after STAFF_SESSION_HOURS in all, at sign-out, or when
an admin disables the user or changes their role: all at once, in every service.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass

from redis import Redis

COOKIE_NAME = "civicpanel_staff"
_SESSION_KEY = "civicpanel:staff-session:{}"
_USER_SESSIONS_KEY = "civicpanel:staff-user-sessions:{}"
# A request refreshes the idle clock at most this often, so reading a page is one Redis call.
_TOUCH_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class StaffMember:
    """The signed-in person, as every service's pages see them."""

    user_id: int
    email: str
    name: str
    agency: str
    agency_name: str
    role: str


@dataclass(frozen=True)
class SessionTimeouts:
    idle_seconds: int
    absolute_seconds: int

    @classmethod
    def from_config(cls, config) -> SessionTimeouts:
        return cls(idle_seconds=config["STAFF_IDLE_MINUTES"] * 60,
                   absolute_seconds=config["STAFF_SESSION_HOURS"] * 3600)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class StaffSessions:
    """The shared session store (one Redis); every method is one or two round trips."""

    def __init__(self, redis: Redis, timeouts: SessionTimeouts):
        self._redis = redis
        self._timeouts = timeouts

    def start(self, member: StaffMember) -> str:
        """A new session for this person; the returned id goes in the cookie, never stored."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        record = {"member": asdict(member), "started": now, "seen": now}
        key = _SESSION_KEY.format(_hash(session_id))
        user_key = _USER_SESSIONS_KEY.format(member.user_id)
        with self._redis.pipeline() as pipe:
            pipe.set(key, json.dumps(record), ex=self._timeouts.idle_seconds)
            pipe.sadd(user_key, _hash(session_id))
            pipe.expire(user_key, self._timeouts.absolute_seconds)
            pipe.execute()
        return session_id

    def find(self, session_id: str | None) -> StaffMember | None:
        """The person behind a cookie's session id, or None when it has ended or never was."""
        if not session_id or len(session_id) > 100:
            return None
        key = _SESSION_KEY.format(_hash(session_id))
        raw = self._redis.get(key)
        if raw is None:
            return None
        record = json.loads(raw)
        now = time.time()
        if now - record["started"] > self._timeouts.absolute_seconds:
            self._redis.delete(key)
            return None
        if now - record["seen"] > _TOUCH_INTERVAL_SECONDS:
            record["seen"] = now
            # Only while it still exists: an end() between the get and this set must win.
            self._redis.set(key, json.dumps(record), ex=self._timeouts.idle_seconds, xx=True)
        return StaffMember(**record["member"])

    def end(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 100:
            self._redis.delete(_SESSION_KEY.format(_hash(session_id)))

    def end_all(self, user_id: int) -> int:
        """End every session of one user (disabled, role changed); how many were live."""
        user_key = _USER_SESSIONS_KEY.format(user_id)
        hashes = self._redis.smembers(user_key)
        with self._redis.pipeline() as pipe:
            for session_hash in hashes:
                pipe.delete(_SESSION_KEY.format(session_hash.decode()))
            pipe.delete(user_key)
            results = pipe.execute()
        return sum(results[:-1])
