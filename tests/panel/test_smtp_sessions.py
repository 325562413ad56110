"""Email goes out over one SMTP session per sending thread, kept across a batch's chunks and
opened again when the server ended it."""

from __future__ import annotations

from sqlalchemy import select

from services.panel.delivery import SmtpSender
from services.panel.models import Delivery
from shared.db import new_session
from tests.panel.factories import make_members
from tests.panel.test_joining import _deliver


def _batch(app) -> list[Delivery]:
    with app.app_context(), new_session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def _send(apps, pump, count: int) -> list[Delivery]:
    _deliver(apps, "invitation", *make_members(apps["panel"], count, channel="email"))
    pump.relay("surveys")
    pump.work("panel")
    return _batch(apps["panel"])


def test_a_batch_of_several_chunks_uses_one_session_per_thread(apps, pump, smtp_server):
    count = 2 * SmtpSender.in_flight + 8  # three chunks
    batch = _send(apps, pump, count)
    assert [d.status for d in batch] == ["sent"] * count
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"m{i}@example.org" for i in range(count))
    assert smtp_server.sessions <= SmtpSender.in_flight


def test_a_session_the_server_ended_is_opened_again_and_nothing_waits(apps, pump, smtp_server):
    smtp_server.store.hang_up_after_message = True
    count = SmtpSender.in_flight + 4
    batch = _send(apps, pump, count)
    # Each handed over once, straight away: no "not now", no retry, nobody mailed twice.
    assert [(d.status, d.attempts) for d in batch] == [("sent", 1)] * count
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"m{i}@example.org" for i in range(count))
    assert smtp_server.sessions == count
