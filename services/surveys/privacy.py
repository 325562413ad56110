"""Keeping what surveys holds about members pseudonymous, and forgetting a member on erasure."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Invitation


def forget_member(session: Session, payload: dict) -> None:
    """Cut every link from this service's data to an erased member.

    Their invitations get a fresh random reference and a dead token, so their answers
    stay in the results anonymously and nothing here can be joined back to them.
    """
    for invitation in session.scalars(
            select(Invitation).where(Invitation.member_ref == str(payload["member_ref"]))):
        invitation.member_ref = str(uuid.uuid4())
        invitation.token = f"erased-{uuid.uuid4().hex}"
