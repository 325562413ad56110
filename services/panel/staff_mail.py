"""Emails to staff (sign-in links, a survey sent to its officer as a test): panel sends every
email of the partnership, these included, but they concern no panel member and are kept in no
delivery log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.panel.delivery import Outgoing, opened_senders


class StaffEmailNotSent(RuntimeError):
    """The mail server refused or did not answer: the job fails and RQ sends it again."""


def send_staff_email(session: Session, payload: dict, *, config) -> None:
    with opened_senders(config) as senders:
        [(_, failure)] = senders["email"].send_all(
            [Outgoing(to=payload["to"], subject=payload["subject"], body=payload["body"])])
    if failure is not None:
        raise StaffEmailNotSent(f"email to staff not sent: {failure}")
