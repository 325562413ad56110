"""Sending rendered messages: email over SMTP, SMS through a Twilio-format gateway, or the log."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

import requests

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    pass


class Sender(Protocol):
    def send(self, to: str, subject: str, body: str) -> str | None: ...


class SmtpSender:
    def __init__(self, *, host: str, port: int, username: str, password: str,
                 starttls: bool, mail_from: str):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.mail_from = starttls, mail_from
        # Name ourselves in EHLO from the sender's domain: smtplib would otherwise ask DNS for
        # this host's FQDN on every connection.
        self.helo_name = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"

    def send(self, to: str, subject: str, body: str) -> str | None:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="civicpanel.localhost")
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name,
                              timeout=30) as smtp:
                if self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"smtp: {exc}") from exc
        return message["Message-ID"]


class TwilioGateway:
    """An SMS gateway speaking Twilio's Messages REST format."""

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, sms_from: str):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.sms_from = sms_from
        self.http = requests.Session()

    def send(self, to: str, subject: str, body: str) -> str | None:
        try:
            response = self.http.post(
                self.url, data={"To": to, "From": self.sms_from, "Body": body},
                auth=self.auth, timeout=30,
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"gateway: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryFailed(f"gateway: HTTP {response.status_code} {response.text[:200]}")
        return response.json().get("sid")


class LogOnlySender:
    """With nothing configured, a message is logged and kept in the delivery log only."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, to: str, subject: str, body: str) -> str | None:
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
        )
    return {"email": email, "sms": sms}
