"""Who did a staff action, as the audit log records them, and how panel and feedback have
surveys record their staff's actions (surveys keeps the one audit log).

An action done from a console page is done by the signed-in staff member (their email); one
done through the API by the key (its prefix); one from the command line by whoever runs it on
the server. A panel or feedback use case puts a `surveys.staff_action` message on its outbox
in its own transaction (`send_staff_action`), so the action and its record commit together,
and surveys writes the row when the message arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, request
from sqlalchemy.orm import Session

from shared.auth import current_caller, display_prefix
from shared.bus import Bus, utcnow

COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Actor:
    """Who acts: their agency and role, and `actor`, the staff member's email or the prefix of
    the API key used (`key_prefix` is set then too)."""

    agency: str
    role: str
    actor: str
    key_prefix: str = ""

    @classmethod
    def command_line(cls) -> Actor:
        """An operator on the server, who may act on any agency's users and keys."""
        return cls(agency="", role="operator", actor=COMMAND_LINE)

    @property
    def any_agency(self) -> bool:
        return self.actor == COMMAND_LINE and not self.agency


def current_actor() -> Actor:
    """Who is making this request: the signed-in staff member on a console page, else the
    API key of the Authorization header (already checked by `require_role`)."""
    staff = g.get("staff")
    if staff is not None:
        return Actor(agency=staff.agency, role=staff.role, actor=staff.email)
    caller = current_caller()
    prefix = display_prefix(request.headers.get("Authorization", "").removeprefix(
        "Bearer ").strip())
    return Actor(agency=caller.agency, role=caller.role, actor=prefix, key_prefix=prefix)


def staff_action_payload(actor: Actor, action: str, *, service: str,
                         survey_ids: Sequence[int] = (), detail: dict | None = None,
                         at: datetime | None = None) -> dict:
    return {"agency": actor.agency, "role": actor.role, "actor": actor.actor,
            "key_prefix": actor.key_prefix, "service": service, "action": action,
            "survey_ids": list(survey_ids), "detail": detail or {}, "at": at or utcnow()}


def send_staff_action(session: Session, bus: Bus, actor: Actor, action: str, *,
                      survey_ids: Sequence[int] = (), detail: dict | None = None) -> None:
    """Have surveys record this staff action; it leaves when the caller's transaction commits
    (with the action itself), and is recorded with the moment it was done."""
    bus.send(session, "surveys.staff_action", staff_action_payload(
        actor, action, service=current_app.config["SERVICE_NAME"], survey_ids=survey_ids,
        detail=detail))
