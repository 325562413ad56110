"""The messages of joining: the link confirming a sign-up, or, to someone already on the panel,
a word that they are (at most once a day)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.consent import member_token
from services.panel.messaging import render
from services.panel.models import Delivery, Member
from services.panel.sending import send_batch, unsubscribe_url
from shared.bus import utcnow
from shared.db import new_session
from shared.service import bus
from shared.statuses import DeliveryStatus


def confirm_join(envelope: dict) -> int:
    """Record the member's confirmation message (or their "already on the panel" one) once,
    then send it."""
    with new_session() as session:
        bus().handle(session, "panel.confirm_join", envelope, record_confirmation)
    member_ref = str(envelope.get("payload", {}).get("member_ref"))
    return send_batch(f"confirm:{member_ref}")


def record_confirmation(session: Session, payload: dict) -> None:
    """The pending member's confirmation link, or the "already on the panel" word (a bus
    handler: it commits with the inbox row)."""
    member = session.scalar(select(Member).where(Member.member_ref == str(payload["member_ref"])))
    if member is not None and payload.get("already_joined"):
        _tell_already_joined(session, member, payload.get("channel") or member.preferred_channel)
        return
    if member is None or member.status != "pending":
        return
    token = member_token(current_app.config["SECRET_KEY"], member.member_ref, salt="confirm")
    link = f"{current_app.config['PANEL_URL'].rstrip('/')}/join/confirm/{token}"
    subject, body = render("confirm_join", member.preferred_channel, {}, link,
                           language=member.language, unsubscribe=unsubscribe_url(member))
    session.add(Delivery(
        delivery_ref=f"confirm_join:{member.member_ref}", batch_id=f"confirm:{member.member_ref}",
        member_ref=member.member_ref, template="confirm_join", channel=member.preferred_channel,
        subject=subject, body=body, status=DeliveryStatus.PENDING))


def _tell_already_joined(session: Session, member: Member, channel: str) -> None:
    """Tell a member, by the address or number someone typed on the join page, that they are
    already on the panel: at most once a day, so the page cannot be used to pester them."""
    if member.status == "erased" or not (member.email if channel == "email" else member.phone):
        return
    delivery_ref = f"already_joined:{member.member_ref}:{utcnow().date().isoformat()}"
    if session.scalar(select(Delivery.id).where(Delivery.delivery_ref == delivery_ref)):
        return
    subject, body = render("already_joined", channel, {}, None, language=member.language,
                           unsubscribe=unsubscribe_url(member))
    session.add(Delivery(
        delivery_ref=delivery_ref, batch_id=f"confirm:{member.member_ref}",
        member_ref=member.member_ref, template="already_joined", channel=channel,
        subject=subject, body=body, status=DeliveryStatus.PENDING))
