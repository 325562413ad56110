"""Sending rendered messages: email over SMTP, SMS through a Twilio-format gateway, or the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

import requests

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The message was refused and will not be tried again."""


class RecipientOptedOut(DeliveryFailed):
    """The gateway says the number sent STOP (Twilio error 21610)."""


class TryLater(RuntimeError):
    """The message was certainly not sent (e.g. HTTP 429): safe to send again after a wait."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Sender(Protocol):
    def send(self, to: str, subject: str, body: str,
             headers: dict[str, str] | None = None) -> str | None: ...


class SmtpSender:
    def __init__(self, *, host: str, port: int, username: str, password: str,
                 starttls: bool, mail_from: str):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.mail_from = starttls, mail_from
        # Name ourselves in EHLO from the sender's domain: smtplib would otherwise ask DNS for
        # this host's FQDN on every connection.
        self.helo_name = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"

    def send(self, to: str, subject: str, body: str,
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
            with smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name,
                              timeout=30) as smtp:
                if self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (ConnectionRefusedError, smtplib.SMTPConnectError) as exc:
            raise TryLater(f"smtp: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # a temporary refusal: nothing was accepted
                raise TryLater(f"smtp: {exc}") from exc
            raise DeliveryFailed(f"smtp: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"smtp: {exc}") from exc
        return message["Message-ID"]


class TwilioGateway:
    """An SMS gateway speaking Twilio's Messages REST format."""

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, sms_from: str,
                 status_callback: str | None = None):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.sms_from = sms_from
        self.status_callback = status_callback
        # One kept-alive session per sending thread: requests.Session is not thread-safe.
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, to: str, subject: str, body: str,
             headers: dict[str, str] | None = None) -> str | None:
        data = {"To": to, "From": self.sms_from, "Body": body}
        if self.status_callback:
            data["StatusCallback"] = self.status_callback
        try:
            response = self.http.post(self.url, data=data, auth=self.auth, timeout=30)
        except requests.ConnectionError as exc:
            # Refused or reset before an answer: Twilio documents create as not idempotent,
            # but a refused connection never reached it.
            if isinstance(exc.args[0] if exc.args else None, ConnectionRefusedError) or \
                    "refused" in str(exc).lower():
                raise TryLater(f"gateway: {exc}") from exc
            raise DeliveryFailed(f"gateway: {exc}") from exc
        except requests.RequestException as exc:
            raise DeliveryFailed(f"gateway: {exc}") from exc
        if response.status_code in (429, 503):  # not processed: Twilio says retry
            raise TryLater(f"gateway: HTTP {response.status_code}",
                           _retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 300:
            code = _error_code(response)
            if code == 21610:
                raise RecipientOptedOut(f"gateway: {code} recipient opted out")
            raise DeliveryFailed(f"gateway: HTTP {response.status_code} {response.text[:200]}")
        return response.json().get("sid")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_code(response: requests.Response) -> int | None:
    try:
        return int(response.json().get("code"))
    except (ValueError, TypeError, AttributeError):
        return None


class LogOnlySender:
    """With nothing configured, a message is logged and kept in the delivery log only."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, to: str, subject: str, body: str,
             headers: dict[str, str] | None = None) -> str | None:
        log.info("[%s not configured: logged only] %s | %s", self.channel, subject, body)
        return None


def senders_from_config(config) -> dict[str, Sender]:
    email: Sender = LogOnlySender("email")
    if config["SMTP_HOST"]:
        email = SmtpSender(
            host=config["SMTP_HOST"], port=config["SMTP_PORT"],
            username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
            starttls=config["SMTP_STARTTLS"], mail_from=config["MAIL_FROM"],
        )
    sms: Sender = LogOnlySender("sms")
    if config["SMS_GATEWAY_URL"]:
        sms = TwilioGateway(
            base_url=config["SMS_GATEWAY_URL"], account_sid=config["SMS_ACCOUNT_SID"],
            auth_token=config["SMS_AUTH_TOKEN"], sms_from=config["SMS_FROM"],
            status_callback=f"{config['PANEL_URL'].rstrip('/')}/sms/status",
        )
    return {"email": email, "sms": sms}
