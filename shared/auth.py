"""Agency API keys: stored hashed, each tied to an agency and a role, checked on every request."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from shared.bus import utcnow
from shared.db import UtcDateTime, get_session

KEY_PREFIX = "cp_"


class ApiKeyMixin:
    """Columns of a service's api_keys table; only the hash of a key is ever stored."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the agency every read is scoped to, and the role that limits writes."""

    agency: str
    role: str


def generate_api_key() -> str:
    # 256 bits of randomness: a plain SHA-256 of it is as strong as a slow hash.
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + 6]


def authenticate(header: str | None) -> Caller | None:
    if not header or not header.startswith("Bearer "):
        return None
    key = header.removeprefix("Bearer ").strip()
    model = current_app.extensions["api_key_model"]
    row = get_session().scalar(
        select(model).where(model.key_hash == hash_api_key(key), model.revoked_at.is_(None))
    )
    return Caller(agency=row.agency, role=row.role) if row else None


def require_role(*roles: str):
    """Let a view run only for a valid key of one of these roles; the caller lands in g.caller."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # A MethodView may check its class's roles and then a method's: one look-up.
            caller = g.get("caller") or authenticate(request.headers.get("Authorization"))
            if caller is None:
                abort(401, message="A valid API key is needed: Authorization: Bearer <key>.")
            if roles and caller.role not in roles:
                abort(403, message=f"This needs one of the roles: {', '.join(roles)}.")
            g.caller = caller
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # read by shared/api_doc.py to document 401 and 403
        return wrapper

    return decorator


def current_caller() -> Caller:
    return g.caller


def store_issued_key(session, payload: dict, model: type) -> None:
    """Keep a copy of a key issued by surveys, so it authenticates here too."""
    row = session.scalar(select(model).where(model.key_hash == payload["key_hash"]))
    if row is None:
        session.add(model(key_hash=payload["key_hash"], key_prefix=payload["key_prefix"],
                          agency=payload["agency"], role=payload["role"], label=payload["label"]))


def revoke_stored_key(session, payload: dict, model: type) -> None:
    row = session.scalar(select(model).where(model.key_hash == payload["key_hash"]))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
