"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket

from aiosmtpd.controller import Controller


class _Store:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        # Seconds to hold each reply after keeping the message: a slow provider, so a test
        # can stop a sender mid-batch while a message it handed over awaits its answer.
        self.reply_delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default))
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeSmtpServer:
    def __init__(self):
        self.store = _Store()
        self.port = free_port()
        self.controller = Controller(self.store, hostname="127.0.0.1", port=self.port,
                                     server_hostname="smtp.test")

    @property
    def messages(self):
        return self.store.messages

    def start(self) -> FakeSmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        self.store.messages.clear()
        self.store.reply_delay = 0.0
