"""Emails to staff (sign-in links, a survey sent to its officer as a test): panel sends every
email of the partnership, these included, but they concern no panel member and are kept in no
delivery log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.panel.delivery import Outgoing, kept_senders
from services.panel.messaging import render


class StaffEmailNotSent(RuntimeError):
    """The mail server refused or did not answer: the job fails and RQ sends it again."""


TEST_NOTE = ("This is a test, sent to you alone: members each get their own link, and the "
             "unsubscribe link of their own at the end.")


def staff_email_text(payload: dict) -> tuple[str, str]:
    """The subject and body: as given, or a member's message rendered and marked as a test."""
    if not payload.get("template"):
        return payload["subject"], payload["body"]
    subject, body = render(payload["template"], "email", payload["context"], payload["link"],
                           unsubscribe="(each member's own unsubscribe link)")
    return f"Test: {subject}", f"{TEST_NOTE}\n\n{body}"


def send_staff_email(session: Session, payload: dict, *, config) -> None:
    subject, body = staff_email_text(payload)
    [(_, failure)] = kept_senders(config)["email"].send_all(
        [Outgoing(to=payload["to"], subject=subject, body=body)])
    if failure is not None:
        raise StaffEmailNotSent(f"email to staff not sent: {failure}")
