"""Staff users and how they sign in: an emailed link, signed, single use, good for 15 minutes
(GOV.UK Notify's admin is the model); every sign-in starts a session all three services share.

Asking for a link answers the same whether or not the address has an account, so the page
tells no one who works where. Asking is limited per client address and per address asked for,
in Redis (shared/rate_limits.py), so a script can neither flood an
inbox nor try addresses fast.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Agency, AuditLog, StaffUser
from shared.bus import Bus, utcnow
from shared.errors import NotFound, RuleBroken
from shared.messages import ROLES
from shared.rate_limits import RateLimit
from shared.staff import StaffMember, StaffSessions

SIGN_IN_LINK_SECONDS = 15 * 60
_LINK_SALT = "civicpanel.staff-sign-in"
_USED_LINK_KEY = "civicpanel:staff-sign-in-used:{}"


@dataclass(frozen=True)
class SignInSettings:
    secret_key: str
    surveys_url: str
    limit_per_address: str
    limit_per_account: str
    partnership_name: str

    @classmethod
    def from_config(cls, config) -> SignInSettings:
        return cls(secret_key=config["SECRET_KEY"], surveys_url=config["SURVEYS_URL"],
                   partnership_name=config["PARTNERSHIP_NAME"],
                   limit_per_address=config["SIGN_IN_RATE_LIMIT_ADDRESS"],
                   limit_per_account=config["SIGN_IN_RATE_LIMIT_ACCOUNT"])


class TooManySignIns(RuleBroken):
    def __init__(self):
        super().__init__("Too many sign-in attempts", {"email": [
            "Too many sign-in links were asked for. Wait an hour and try again."]}, status=429)


class SignInLinkUnusable(RuleBroken):
    def __init__(self, reason: str):
        super().__init__("This sign-in link cannot be used", {"link": [reason]}, status=400)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_staff_user(session: Session, *, email: str, name: str, agency: str,
                   role: str) -> StaffUser:
    """A new staff user; the email must be new and the agency and role must exist."""
    email = normalise_email(email)
    errors = {}
    if session.get(Agency, agency) is None:
        errors["agency"] = [f"No agency called {agency}."]
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        errors["email"] = ["A staff user with this email already exists."]
    if errors:
        raise RuleBroken("The staff user cannot be added", errors)
    user = StaffUser(email=email, name=name.strip(), agency=agency, role=role)
    session.add(user)
    session.commit()
    return user


def active_user_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(
        StaffUser.email == normalise_email(email), StaffUser.disabled_at.is_(None)))


def sign_in_link(user: StaffUser, settings: SignInSettings, next_url: str | None = None) -> str:
    """A fresh single-use link that signs this user in within 15 minutes (and then goes on to
    `next_url`, when given)."""
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=_LINK_SALT)
    token = serializer.dumps({"user": user.id, "once": secrets.token_urlsafe(16)})
    link = f"{settings.surveys_url.rstrip('/')}/sign-in/{token}"
    return f"{link}?{urlencode({'next': next_url})}" if next_url else link


def _within_limits(redis: Redis, settings: SignInSettings, address: str, email: str) -> bool:
    per_address = RateLimit(redis, "sign-in-address", lambda: settings.limit_per_address)
    per_account = RateLimit(redis, "sign-in-account", lambda: settings.limit_per_account)
    return all([per_address.hit(address) is None, per_account.hit(email) is None])


def email_sign_in_link(session: Session, bus: Bus, redis: Redis, settings: SignInSettings, *,
                       email: str, address: str, next_url: str | None = None) -> None:
    """Send a sign-in link to this address if it is an active staff user's; answer alike
    either way. TooManySignIns past the limits."""
    if not _within_limits(redis, settings, address, normalise_email(email)):
        raise TooManySignIns()
    user = active_user_by_email(session, email)
    if user is None:
        return
    bus.send(session, "panel.staff_email", {
        "to": user.email, "subject": f"Sign in to the {settings.partnership_name} console",
        "body": render_template("messages/sign_in_link.txt", name=user.name,
                                partnership_name=settings.partnership_name,
                                link=sign_in_link(user, settings, next_url)),
    })
    session.commit()


def redeem_sign_in_link(session: Session, redis: Redis, settings: SignInSettings,
                        token: str) -> StaffUser:
    """The user a link signs in, once: SignInLinkUnusable when it is forged, expired, used
    already, or its user has been disabled since."""
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=_LINK_SALT)
    try:
        claims = serializer.loads(token, max_age=SIGN_IN_LINK_SECONDS)
    except SignatureExpired:
        raise SignInLinkUnusable("It has expired: links work for 15 minutes. "
                                 "Ask for a new one.") from None
    except (BadSignature, UnicodeError):
        raise SignInLinkUnusable("It is not a link we sent. Check you copied all of it, "
                                 "or ask for a new one.") from None
    user = session.get(StaffUser, claims.get("user")) if isinstance(claims, dict) else None
    if user is None or not user.active:
        raise SignInLinkUnusable("Its account is not active. Ask your admin.")
    if not redis.set(_USED_LINK_KEY.format(claims.get("once")), 1, nx=True,
                     ex=SIGN_IN_LINK_SECONDS + 60):
        raise SignInLinkUnusable("It has been used already: each link works once. "
                                 "Ask for a new one.")
    return user


def start_session(session: Session, sessions: StaffSessions, user: StaffUser,
                  *, how: str) -> str:
    """Sign this user in (`how`: "email link" or the identity provider): the new session's id,
    the sign-in recorded in the audit log."""
    agency_name = session.scalar(select(Agency.name).where(Agency.slug == user.agency))
    session_id = sessions.start(StaffMember(
        user_id=user.id, email=user.email, name=user.name, agency=user.agency,
        agency_name=agency_name or user.agency, role=user.role))
    user.last_signed_in_at = utcnow()
    session.add(AuditLog(agency=user.agency, role=user.role, actor=user.email,
                         action="sign_in", detail={"how": how}))
    session.commit()
    return session_id


def user_for_sign_in_link(session: Session, email: str) -> StaffUser:
    """For the CLI: the active user with this email, or NotFound."""
    user = active_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No active staff user with the email {normalise_email(email)}.")
    return user
