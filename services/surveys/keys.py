"""Issuing and revoking agency API keys; each key is replicated, hashed, to panel and feedback."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Agency, ApiKey
from shared.auth import display_prefix, generate_api_key, hash_api_key
from shared.bus import Bus, utcnow

REPLICAS = ("panel", "feedback")


def issue_key(session: Session, bus: Bus, *, agency: str, role: str, label: str = "") -> str:
    """A new key for the agency and role; the key itself is returned once and never stored."""
    if session.get(Agency, agency) is None:
        raise LookupError(f"no agency called {agency}")
    key = generate_api_key()
    row = ApiKey(key_hash=hash_api_key(key), key_prefix=display_prefix(key), agency=agency,
                 role=role, label=label)
    session.add(row)
    for service in REPLICAS:
        bus.send(session, f"{service}.api_key_issued", {
            "key_hash": row.key_hash, "key_prefix": row.key_prefix, "agency": agency,
            "role": role, "label": label,
        })
    return key


def revoke_key(session: Session, bus: Bus, *, key_prefix: str) -> int:
    rows = session.scalars(select(ApiKey).where(ApiKey.key_prefix == key_prefix,
                                                ApiKey.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
        for service in REPLICAS:
            bus.send(session, f"{service}.api_key_revoked", {"key_hash": row.key_hash})
    return len(rows)
