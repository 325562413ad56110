"""The SMS gateway's status callbacks: a delivery moves on, and surveys hears how it ended."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.panel.messaging import PANEL_TEMPLATES
from services.panel.models import Delivery
from shared.bus import Bus

# Twilio's statuses in the order a message moves through them; terminal ones never move back.
STATUS_ORDER = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "canceled": 3}
TERMINAL = {"delivered", "undelivered", "failed", "canceled", "no_consent", "opted_out"}


def record_status(session: Session, bus: Bus, *, provider_id: str, status: str,
                  error: str | None) -> None:
    """Apply one callback; repeats and callbacks out of order change nothing."""
    delivery = session.scalar(select(Delivery).where(Delivery.provider_id == provider_id)) \
        if provider_id else None
    if delivery is None or status not in STATUS_ORDER:
        return
    # Callbacks repeat and arrive out of order: only ever move forward, never out of terminal.
    if delivery.status in TERMINAL or STATUS_ORDER[status] <= STATUS_ORDER.get(delivery.status, 2):
        return
    delivery.status = status
    if error:
        delivery.error = error
    if status in ("delivered", "undelivered", "failed") \
            and delivery.template not in PANEL_TEMPLATES:
        bus.send(session, "surveys.delivery_report",
                 {"deliveries": [{"delivery_ref": delivery.delivery_ref,
                                  "status": "failed" if status == "canceled" else status}]})
    session.commit()
