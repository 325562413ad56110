"""Links to a member's own page: the member_ref signed with the service's secret, no login."""

from __future__ import annotations

import uuid

from shared.signing import sign, unsign

PURPOSE = "feedback.member-page"


def member_token(member_ref: str, secret: str) -> str:
    """An unguessable token naming one member: their ref (hex) and its signature."""
    return sign(secret, PURPOSE, uuid.UUID(str(member_ref)).hex)


def member_ref_from_token(token: str, secret: str) -> str | None:
    """The member_ref a token names, or None when it was not signed with this secret."""
    ref = unsign(secret, PURPOSE, token)
    try:
        return str(uuid.UUID(ref)) if ref is not None else None
    except ValueError:
        return None


def member_page_url(feedback_url: str, member_ref: str, secret: str) -> str:
    return f"{feedback_url}/you/{member_token(member_ref, secret)}"
