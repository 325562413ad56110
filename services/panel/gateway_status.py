"""The SMS gateway's status callbacks: a delivery moves on, and surveys hears how it ended."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.messaging import PANEL_TEMPLATES
from services.panel.models import Delivery
from shared.bus import Bus
from shared.statuses import DeliveryStatus, is_final, may_move

# Twilio's callback statuses, as Twilio names them, that say where a message got to; the
# others ("queued", "accepted", "sending") come before "sent" and never move a delivery.
GATEWAY_STATUSES = {"sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
                    "undelivered": DeliveryStatus.UNDELIVERED, "failed": DeliveryStatus.FAILED,
                    "canceled": DeliveryStatus.CANCELED}


def record_status(session: Session, bus: Bus, *, provider_id: str, status: str,
                  error: str | None) -> None:
    """Apply one callback; repeats and callbacks out of order change nothing."""
    new = GATEWAY_STATUSES.get(status)
    delivery = session.scalar(select(Delivery).where(Delivery.provider_id == provider_id)) \
        if provider_id and new else None
    # Callbacks repeat and arrive out of order: only the moves a delivery allows are made.
    if delivery is None or not may_move(delivery.status, new, DeliveryStatus):
        return
    delivery.status = new
    if error:
        delivery.error = error
    if is_final(new, DeliveryStatus) and delivery.template not in PANEL_TEMPLATES:
        # Surveys knows no "canceled": for an invitation it is a message that failed.
        told = DeliveryStatus.FAILED if new == DeliveryStatus.CANCELED else new
        bus.send(session, "surveys.delivery_report",
                 {"deliveries": [{"delivery_ref": delivery.delivery_ref, "status": told}]})
    session.commit()
