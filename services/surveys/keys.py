"""Partner agencies and their API keys, issued and revoked; each key is replicated, hashed, to
panel and feedback."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.audit import record_staff_action
from services.surveys.models import Agency, ApiKey
from services.surveys.role_rules import RoleRules
from shared.audit import Actor
from shared.auth import display_prefix, generate_api_key, hash_api_key
from shared.bus import Bus, utcnow
from shared.errors import NotFound, RuleBroken

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


def revoke_key(session: Session, bus: Bus, *, key_prefix: str, agency: str | None = None) -> int:
    """Revoke the live keys with this prefix, of this agency only when one is named."""
    where = [ApiKey.key_prefix == key_prefix, ApiKey.revoked_at.is_(None)]
    if agency is not None:
        where.append(ApiKey.agency == agency)
    rows = session.scalars(select(ApiKey).where(*where)).all()
    for row in rows:
        row.revoked_at = utcnow()
        for service in REPLICAS:
            bus.send(session, f"{service}.api_key_revoked", {"key_hash": row.key_hash})
    return len(rows)


def issue(session: Session, bus: Bus, rules: RoleRules, actor: Actor, *, agency: str, role: str,
          label: str = "") -> ApiKey:
    """Issue a key and commit, recorded as "key_issued": the stored row, with the key itself
    on it for this answer only."""
    if problem := rules.problem(role, agency):
        raise RuleBroken("The key cannot be issued", {"role": [problem]})
    key = issue_key(session, bus, agency=agency, role=role, label=label)
    record_staff_action(session, actor, "key_issued", agency=agency, detail={
        "key_prefix": display_prefix(key), "role": role, "label": label})
    session.commit()
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
    row.key = key  # shown once; never stored
    return row


def live_key(session: Session, *, agency: str, key_prefix: str) -> ApiKey:
    """The agency's live key with this prefix; NotFound otherwise."""
    row = session.scalar(select(ApiKey).where(
        ApiKey.key_prefix == key_prefix, ApiKey.agency == agency, ApiKey.revoked_at.is_(None)))
    if row is None:
        raise NotFound("No such key in your agency.")
    return row


def revoke(session: Session, bus: Bus, actor: Actor, *, key_prefix: str,
           agency: str | None = None) -> int:
    """Revoke the live keys with this prefix (of this agency only, when one is named),
    recorded as "key_revoked"."""
    if agency is not None:
        live_key(session, agency=agency, key_prefix=key_prefix)
        agencies = {agency}
    else:
        agencies = set(session.scalars(select(ApiKey.agency).where(
            ApiKey.key_prefix == key_prefix, ApiKey.revoked_at.is_(None))))
    count = revoke_key(session, bus, key_prefix=key_prefix, agency=agency)
    for owner in sorted(agencies):
        record_staff_action(session, actor, "key_revoked", agency=owner,
                            detail={"key_prefix": key_prefix})
    session.commit()
    return count


def add_agency(session: Session, bus: Bus, *, slug: str, name: str) -> Agency:
    """A new partner agency, its name announced to panel; LookupError when the slug is taken."""
    if session.get(Agency, slug) is not None:
        raise LookupError(f"agency {slug} exists already")
    agency = Agency(slug=slug, name=name)
    session.add(agency)
    announce_agency(session, bus, agency)
    session.commit()
    return agency


def announce_every_agency(session: Session, bus: Bus) -> list[str]:
    """Every agency's name announced to panel again (agencies added before panel was told
    of names, or a panel database restored from before them); the agencies, by slug."""
    agencies = list(session.scalars(select(Agency).order_by(Agency.slug)))
    for agency in agencies:
        announce_agency(session, bus, agency)
    session.commit()
    return [agency.slug for agency in agencies]


def announce_agency(session: Session, bus: Bus, agency: Agency) -> None:
    """Panel shows agencies by name but keeps no agencies of its own: it is told each one's."""
    bus.send(session, "panel.agency_named", {"agency": agency.slug, "name": agency.name})
