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
        # Sessions to drop, by the command they are dropped at: "rcpt" (before any message
        # went, so nothing was accepted) or "data" (the message arrived, no answer was given).
        self.resets: dict[str, int] = {"rcpt": 0, "data": 0}
        # The client address and port of each kept message's session: one per connection.
        self.peers: list[tuple] = []
        # Close the connection just after answering each message, as a server ending idle
        # sessions does: the client finds out at its next command.
        self.hang_up_after_message = False

    def _reset(self, server, at: str) -> bool:
        if self.resets[at] <= 0:
            return False
        self.resets[at] -= 1
        server.transport.abort()  # the connection drops at once, no reply
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self._reset(server, "rcpt"):
            return "421 reset"  # never reaches the client
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.peers.append(session.peer)
        if self._reset(server, "data"):
            return "421 reset"  # never reaches the client
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        if self.hang_up_after_message:  # runs once the answer below is written
            asyncio.get_running_loop().call_soon(server.transport.close)
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

    def reset_next(self, count: int, at: str) -> None:
        """Drop the next `count` sessions at RCPT (nothing sent) or after DATA (sent, no answer)."""
        self.store.resets[at] += count

    @property
    def sessions(self) -> int:
        """How many connections carried the messages kept."""
        return len(set(self.store.peers))

    def clear(self) -> None:
        self.store.messages.clear()
        self.store.peers.clear()
        self.store.hang_up_after_message = False
        self.store.reply_delay = 0.0
        self.store.resets = {"rcpt": 0, "data": 0}
