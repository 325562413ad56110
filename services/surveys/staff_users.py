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

from services.surveys.audit import record_staff_action
from services.surveys.models import Agency, StaffUser
from services.surveys.role_rules import RoleRules
from shared.audit import Actor
from shared.bus import Bus, utcnow
from shared.errors import NotFound, RuleBroken
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


def _new_staff_user(session: Session, rules: RoleRules, *, email: str, name: str, agency: str,
                    role: str) -> StaffUser:
    email = normalise_email(email)
    errors = {}
    if not name.strip():
        errors["name"] = ["Enter their name."]
    if session.get(Agency, agency) is None:
        errors["agency"] = [f"No agency called {agency}."]
    if problem := rules.problem(role, agency):
        errors["role"] = [problem]
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        errors["email"] = ["A staff user with this email already exists."]
    if errors:
        raise RuleBroken("The staff user cannot be added", errors)
    user = StaffUser(email=email, name=name.strip(), agency=agency, role=role)
    session.add(user)
    session.flush()
    return user


def add_staff_user(session: Session, rules: RoleRules, *, email: str, name: str, agency: str,
                   role: str) -> StaffUser:
    """A new staff user; the email must be new, the agency must exist and may hold the role."""
    user = _new_staff_user(session, rules, email=email, name=name, agency=agency, role=role)
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
    _send_sign_in_link(session, bus, settings, user, next_url)
    session.commit()


def _send_sign_in_link(session: Session, bus: Bus, settings: SignInSettings, user: StaffUser,
                       next_url: str | None = None, *, invited_by: str | None = None) -> None:
    bus.send(session, "panel.staff_email", {
        "to": user.email, "subject": f"Sign in to the {settings.partnership_name} console",
        "body": render_template("messages/sign_in_link.txt", name=user.name,
                                partnership_name=settings.partnership_name,
                                link=sign_in_link(user, settings, next_url),
                                invited_by=invited_by),
    })


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
    the sign-in recorded in the audit log.

    The user's row is read again, locked, so a sign-in and an admin disabling the user (or
    changing their role) take turns: either the disabling sees this session and ends it, or
    this sign-in sees the user disabled and is refused (SignInLinkUnusable).
    """
    session.refresh(user, with_for_update=True)
    if not user.active:
        raise SignInLinkUnusable("Its account is not active. Ask your admin.")
    agency_name = session.scalar(select(Agency.name).where(Agency.slug == user.agency))
    session_id = sessions.start(StaffMember(
        user_id=user.id, email=user.email, name=user.name, agency=user.agency,
        agency_name=agency_name or user.agency, role=user.role))
    user.last_signed_in_at = utcnow()
    record_staff_action(session, _as_actor(user), "sign_in", detail={"how": how})
    session.commit()
    return session_id


def _as_actor(user: StaffUser) -> Actor:
    return Actor(agency=user.agency, role=user.role, actor=user.email)


# -- an agency's admin manages its users ------------------------------------------------


def agency_users(session: Session, *, agency: str) -> list[StaffUser]:
    """The agency's staff users, active ones first, by name."""
    return list(session.scalars(select(StaffUser).where(StaffUser.agency == agency)
                                .order_by(StaffUser.disabled_at.is_not(None), StaffUser.name,
                                          StaffUser.email)))


def agency_user(session: Session, actor: Actor, who: int | str) -> StaffUser:
    """One staff user by id or email, of the actor's agency (any, at the command line);
    NotFound otherwise."""
    column = StaffUser.email if isinstance(who, str) else StaffUser.id
    wanted = normalise_email(who) if isinstance(who, str) else who
    statement = select(StaffUser).where(column == wanted)
    if not actor.any_agency:
        statement = statement.where(StaffUser.agency == actor.agency)
    user = session.scalar(statement)
    if user is None:
        raise NotFound("No such staff user in your agency.")
    return user


def invite_user(session: Session, bus: Bus, settings: SignInSettings, rules: RoleRules,
                actor: Actor, *, email: str, name: str, role: str,
                agency: str | None = None) -> StaffUser:
    """Add a staff user to the actor's agency (`agency`, at the command line) and email them
    a sign-in link; recorded as "user_invited"."""
    agency = actor.agency if not actor.any_agency else agency or ""
    user = _new_staff_user(session, rules, email=email, name=name, agency=agency, role=role)
    _send_sign_in_link(session, bus, settings, user, invited_by=None if actor.any_agency
                       else actor.actor)
    record_staff_action(session, actor, "user_invited", agency=agency,
                        detail={"email": user.email, "name": user.name, "role": role})
    session.commit()
    return user


class OwnAccount(RuleBroken):
    def __init__(self, what: str):
        super().__init__(f"You cannot {what} your own account", {"user": [
            f"Another admin of your agency can {what} it for you."]}, status=409)


def change_role(session: Session, sessions: StaffSessions, rules: RoleRules, actor: Actor, *,
                who: int | str, role: str) -> StaffUser:
    """Give a user another role; their sessions end (they sign in again as the new role)."""
    user = agency_user(session, actor, who)
    if user.email == actor.actor:
        raise OwnAccount("change the role of")
    if problem := rules.problem(role, user.agency):
        raise RuleBroken("The role cannot be changed", {"role": [problem]})
    if role != user.role:
        record_staff_action(session, actor, "role_changed", agency=user.agency, detail={
            "email": user.email, "from": user.role, "to": role})
        user.role = role
        _end_sessions_then_commit(session, sessions, user)
    return user


def disable_user(session: Session, sessions: StaffSessions, actor: Actor, *,
                 who: int | str) -> StaffUser:
    """Disable a user: they can no longer sign in, and every session of theirs ends now, in
    all three services. Disabling a disabled user ends any session again."""
    user = agency_user(session, actor, who)
    if user.email == actor.actor:
        raise OwnAccount("disable")
    if user.active:
        user.disabled_at = utcnow()
        record_staff_action(session, actor, "user_disabled", agency=user.agency,
                            detail={"email": user.email})
    _end_sessions_then_commit(session, sessions, user)
    return user


def enable_user(session: Session, actor: Actor, *, who: int | str) -> StaffUser:
    """Let a disabled user sign in again (by a new link)."""
    user = agency_user(session, actor, who)
    if not user.active:
        user.disabled_at = None
        record_staff_action(session, actor, "user_enabled", agency=user.agency,
                            detail={"email": user.email})
        session.commit()
    return user


def _end_sessions_then_commit(session: Session, sessions: StaffSessions,
                              user: StaffUser) -> None:
    """The change is written (and the row locked, so no sign-in of this user can start a
    session meanwhile: `start_session`), the sessions end, then the change commits. Should
    Redis fail, nothing is committed and the admin is told; ending sessions first means no
    session outlives a committed disabling."""
    session.flush()
    sessions.end_all(user.id)
    session.commit()


def user_for_sign_in_link(session: Session, email: str) -> StaffUser:
    """For the CLI: the active user with this email, or NotFound."""
    user = active_user_by_email(session, email)
    if user is None:
        raise NotFound(f"No active staff user with the email {normalise_email(email)}.")
    return user
