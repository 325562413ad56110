"""Sending rendered messages: email over SMTP, SMS through a Twilio-format gateway, or the log."""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import logging
import os
import smtplib
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The message was refused and will not be tried again."""


class RecipientOptedOut(DeliveryFailed):
    """The gateway says the number sent STOP (Twilio error 21610)."""


class Unconfirmed(RuntimeError):
    """The server took the message and never said what became of it (no answer in time, or
    the connection dropped once the message was on its way): it may have gone, so it is never
    sent again automatically; a person looks at it (and a status callback may still confirm)."""


class TryLater(RuntimeError):
    """The message was certainly not sent (e.g. HTTP 429): safe to send again after a wait."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    """One message as a sender sees it: no member, no database."""

    to: str | None
    subject: str
    body: str
    headers: dict[str, str] | None = None


# What became of one message: the provider's id, or why it was not sent.
Outcome = tuple[str | None, DeliveryFailed | TryLater | Unconfirmed | None]


class Sender(Protocol):
    # How many messages it sends at once; panel claims no more than that at a time.
    in_flight: int

    def send_all(self, messages: list[Outgoing]) -> list[Outcome]: ...

    def close(self) -> None: ...


class _SmtpSession(smtplib.SMTP):
    """smtplib's session, noting when the message itself starts to go (the server answered
    DATA with 354): a failure before that certainly sent nothing, one after may not have."""

    in_data = False
    message_going = False

    def data(self, msg):
        self.in_data = True
        return super().data(msg)

    def getreply(self):
        reply = super().getreply()
        if self.in_data and reply[0] == 354:
            self.message_going = True
        return reply


class SmtpSender:
    """Email over SMTP from a pool of threads, each keeping its own session open across the
    chunks of a job (one connection, EHLO, STARTTLS and login a thread, not a message)."""

    in_flight = 16  # SMTP sessions at once, one a thread

    def __init__(self, *, host: str, port: int, username: str, password: str,
                 starttls: bool, mail_from: str, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password = username, password
        self.starttls, self.mail_from = starttls, mail_from
        # Name ourselves in EHLO from the sender's domain: smtplib would otherwise ask DNS for
        # this host's FQDN on every connection.
        self.helo_name = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()  # the session of the pool thread reading it
        self._sessions: set[_SmtpSession] = set()  # every thread's, to end them on close
        self._lock = threading.Lock()

    def send_all(self, messages: list[Outgoing]) -> list[Outcome]:
        with self._lock:  # a kept sender may be asked from two threads at once
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.in_flight,
                                                thread_name_prefix="panel-smtp")
            pool = self._pool
        return list(pool.map(self._outcome, messages))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        with self._lock:
            sessions, self._sessions = self._sessions, set()
        for smtp in sessions:
            _quit(smtp)

    def _outcome(self, message: Outgoing) -> Outcome:
        if message.to is None:
            return None, DeliveryFailed("no address for this channel")
        try:
            return self._send(message.to, message.subject, message.body, message.headers), None
        except (DeliveryFailed, TryLater, Unconfirmed) as exc:
            return None, exc

    def _session(self) -> tuple[_SmtpSession, bool]:
        """This thread's session, opened when it has none: (session, whether it was kept)."""
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None:
            smtp.in_data = smtp.message_going = False
            return smtp, True
        smtp = _SmtpSession(self.host, self.port, local_hostname=self.helo_name,
                            timeout=self.timeout)
        with self._lock:
            self._sessions.add(smtp)
        self._local.smtp = smtp
        if self.starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if self.username:
            smtp.login(self.username, self.password)
        return smtp, False

    def _drop_session(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with self._lock:
                self._sessions.discard(smtp)
            _quit(smtp)

    def _send(self, to: str, subject: str, body: str,
              headers: dict[str, str] | None = None) -> str | None:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="civicpanel.localhost")
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        try:
            self._hand_over(message)
        except BaseException:
            # Whatever went wrong, the next message starts on a fresh session.
            self._drop_session()
            raise
        return message["Message-ID"]

    def _hand_over(self, message: EmailMessage) -> None:
        """Send on this thread's session; a kept session the server closed while it sat idle
        only shows it at the next command, before any of the message went: then once more
        on a new session."""
        smtp, kept = None, False
        try:
            smtp, kept = self._session()
            smtp.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            raise self._failure(exc, smtp) from exc  # the server answered
        except OSError as exc:  # no answer (smtplib's errors are OSErrors too)
            if not kept or smtp.message_going:
                raise self._failure(exc, smtp) from exc
            self._drop_session()
            smtp = None
            try:
                smtp, _ = self._session()
                smtp.send_message(message)
            except OSError as again:
                raise self._failure(again, smtp) from again

    @staticmethod
    def _failure(exc: Exception, smtp: _SmtpSession | None) -> Exception:
        """What a failed send means: refused for good, "not now", or perhaps sent."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):  # the server answered for the address
            code = next(iter(exc.recipients.values()))[0]
            return TryLater(f"smtp: {exc}") if 400 <= code < 500 \
                else DeliveryFailed(f"smtp: {exc}")
        if isinstance(exc, smtplib.SMTPResponseException):  # the server answered: we know
            if 400 <= exc.smtp_code < 500:  # a temporary refusal: nothing was accepted
                return TryLater(f"smtp: {exc}")
            return DeliveryFailed(f"smtp: {exc}")
        # No answer: reset, timeout, refused.
        if smtp is not None and smtp.message_going:
            return Unconfirmed(f"smtp: no answer once the message was sent: "
                               f"{exc.__class__.__name__} {exc}")
        return TryLater(f"smtp: {exc.__class__.__name__} {exc}")


def _quit(smtp: smtplib.SMTP) -> None:
    """End the session politely if it still stands; what it answers changes nothing sent."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class TwilioGateway:
    """An SMS gateway speaking Twilio's Messages REST format.

    Messages go out concurrently from one asyncio loop on a thread of its own, over one pool
    of kept-alive connections, so a synchronous job can hand it a chunk at a time.
    """

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, sms_from: str,
                 status_callback: str | None = None, in_flight: int = 100,
                 timeout: float = 30.0):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.authorization = f"Basic {credentials}"
        self.sms_from = sms_from
        self.status_callback = status_callback
        # Every message's form ends the same: encoded once (aiohttp's form machinery cost a
        # quarter of each request's time).
        self._form_end = "&" + urlencode(
            {"From": sms_from, **({"StatusCallback": status_callback} if status_callback else {})})
        self.in_flight = in_flight
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._http: aiohttp.ClientSession | None = None

    def send_all(self, messages: list[Outgoing]) -> list[Outcome]:
        with self._starting:  # a kept sender may be asked from two threads at once
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name="panel-sms")
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(self._send_all(messages), loop).result()

    def close(self) -> None:
        if self._loop is None:
            return
        if self._http is not None:
            asyncio.run_coroutine_threadsafe(self._http.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._http = None

    async def _send_all(self, messages: list[Outgoing]) -> list[Outcome]:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.in_flight),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Authorization": self.authorization,
                         "Content-Type": "application/x-www-form-urlencoded"})
        return list(await asyncio.gather(*(self._send(m) for m in messages)))

    async def _send(self, message: Outgoing) -> Outcome:
        if message.to is None:
            return None, DeliveryFailed("no address for this channel")
        data = (urlencode({"To": message.to, "Body": message.body}) + self._form_end).encode()
        try:
            async with self._http.post(self.url, data=data) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                try:
                    text = await response.text()
                except (aiohttp.ClientError, TimeoutError):
                    text = ""  # the status is the answer; a lost body only loses the id
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # No connection was made, so nothing reached the gateway: Twilio documents create
            # as not idempotent, but a request never sent is safe to send again.
            return None, TryLater(f"gateway: {exc.__class__.__name__} {exc}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Sent, and no answer (a timeout, a dropped connection): it may have gone.
            return None, Unconfirmed(f"gateway: no answer: {exc.__class__.__name__} {exc}")
        if status in (429, 503):  # not processed: Twilio says retry
            return None, TryLater(f"gateway: HTTP {status}", _retry_after(retry_after))
        if status >= 300:
            code = _error_code(text)
            if code == 21610:
                return None, RecipientOptedOut(f"gateway: {code} recipient opted out")
            return None, DeliveryFailed(f"gateway: HTTP {status} {text[:200]}")
        try:
            return json.loads(text).get("sid"), None
        except (ValueError, AttributeError):
            return None, None  # accepted (2xx) without a readable body: sent, id unknown


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_code(text: str) -> int | None:
    try:
        return int(json.loads(text).get("code"))
    except (ValueError, TypeError, AttributeError):
        return None


class LogOnlySender:
    """With nothing configured, a message is logged and kept in the delivery log only."""

    in_flight = 100

    def __init__(self, channel: str):
        self.channel = channel

    def send_all(self, messages: list[Outgoing]) -> list[Outcome]:
        for message in messages:
            log.info("[%s not configured: logged only] %s | %s", self.channel, message.subject,
                     message.body)
        return [(None, None) for _ in messages]

    def close(self) -> None:
        pass


# What a sender is made from: the same settings, the same senders.
SENDER_SETTINGS = ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
                   "MAIL_FROM", "SMS_GATEWAY_URL", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN",
                   "SMS_FROM", "PANEL_URL", "DELIVERY_TIMEOUT_SECONDS")
_kept: dict[tuple, dict[str, Sender]] = {}
_kept_lock = threading.Lock()


def kept_senders(config) -> dict[str, Sender]:
    """The sender of each channel for these settings, made once a process and kept, with its
    connections and threads, for every batch after (a worker runs job after job in one
    process): a launch's hundred batches open the gateway's connections once, not a hundred
    times. Closed when the process exits; a forked child starts without them."""
    key = tuple(config[name] for name in SENDER_SETTINGS)
    with _kept_lock:
        senders = _kept.get(key)
        if senders is None:
            senders = _kept[key] = senders_from_config(config)
    return senders


@atexit.register
def _close_kept_senders() -> None:
    with _kept_lock:
        kept = list(_kept.values())
        _kept.clear()
    for senders in kept:
        for sender in senders.values():
            sender.close()


# A child's copy of a sender has no threads (a fork keeps only the forking one): never used.
os.register_at_fork(after_in_child=_kept.clear)


def senders_from_config(config) -> dict[str, Sender]:
    email: Sender = LogOnlySender("email")
    if config["SMTP_HOST"]:
        email = SmtpSender(
            host=config["SMTP_HOST"], port=config["SMTP_PORT"],
            username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
            starttls=config["SMTP_STARTTLS"], mail_from=config["MAIL_FROM"],
            timeout=config["DELIVERY_TIMEOUT_SECONDS"],
        )
    sms: Sender = LogOnlySender("sms")
    if config["SMS_GATEWAY_URL"]:
        sms = TwilioGateway(
            base_url=config["SMS_GATEWAY_URL"], account_sid=config["SMS_ACCOUNT_SID"],
            auth_token=config["SMS_AUTH_TOKEN"], sms_from=config["SMS_FROM"],
            status_callback=f"{config['PANEL_URL'].rstrip('/')}/sms/status",
            timeout=config["DELIVERY_TIMEOUT_SECONDS"],
        )
    return {"email": email, "sms": sms}
