"""Links to a member's own page: the member_ref signed with the service's secret, no login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

SALT = b"civicpanel.feedback.member-page:"


def _signature(member_ref: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), SALT + member_ref.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def member_token(member_ref: str, secret: str) -> str:
    """An unguessable token naming one member: their ref and its 256-bit HMAC."""
    ref = uuid.UUID(str(member_ref)).hex
    return f"{ref}.{_signature(ref, secret)}"


def member_ref_from_token(token: str, secret: str) -> str | None:
    """The member_ref a token names, or None when it was not signed with this secret."""
    ref, _, signature = token.partition(".")
    try:
        ref = uuid.UUID(ref).hex
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _signature(ref, secret)):
        return None
    return str(uuid.UUID(ref))


def member_page_url(feedback_url: str, member_ref: str, secret: str) -> str:
    return f"{feedback_url}/you/{member_token(member_ref, secret)}"
