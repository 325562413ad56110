"""Staff sign-in through their agency's own identity provider (OpenID Connect, with Authlib).

An agency listed in OIDC_PROVIDERS gets a button on the sign-in page. The button starts the
authorization code flow with PKCE (S256), a state and a nonce, all made by Authlib and kept in
Redis for the hour Authlib allows, tied to this browser by its surveys session cookie. The
provider sends the person back to `/sign-in/oidc/<agency>/callback`; Authlib exchanges the code
(with the client secret and the PKCE verifier) and verifies the ID token: its signature by the
provider's published keys (JWKS), and here also its issuer (the configured one, exactly), its
audience (this client), its nonce and its expiry.

The person is then the staff user of THAT agency whose address the provider vouches for
(`email` with `email_verified` true, or in one of the agency's own `email_domains` where the
provider sends no `email_verified`): a user of another agency, an unknown address and a
disabled user get one and the same refusal, so the page never tells whether an address works
somewhere else. The provider's subject (`sub`) is kept on the user at the first sign-in; a
later sign-in with the same address but another subject (the address given to someone else at
the provider) is refused. Success starts the same staff session as an emailed link does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, current_app
from flask import session as browser_session
from joserfc.errors import JoseError
from redis import Redis
from requests import RequestException
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Agency, StaffUser
from services.surveys.staff_users import normalise_email, start_session
from shared.errors import NotFound, RuleBroken
from shared.identity_providers import IdentityProvider
from shared.service import public_url
from shared.staff import StaffSessions

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
# Seconds of clock difference between the provider and us taken on an ID token's times.
CLOCK_LEEWAY_SECONDS = 60
# How long the provider's discovery document, keys and token endpoint may take to answer.
PROVIDER_TIMEOUT_SECONDS = 10
_NEXT_KEY = "civicpanel_oidc_next"
_STATE_KEY = "civicpanel:oidc-state:{}"


class OidcSignInFailed(RuleBroken):
    """The exchange with the provider did not prove who this is: nothing is signed in."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__("Sign-in could not be completed", {"sign_in": [reason]}, status=status)


class OidcAccountRefused(RuleBroken):
    """The provider vouched for someone who may not use this agency's console."""

    def __init__(self, reason: str):
        super().__init__("You cannot sign in with this account", {"sign_in": [reason]},
                         status=403)


@dataclass(frozen=True)
class ProviderButton:
    agency: str
    label: str  # "Sign in with <provider's name>"
    agency_name: str


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    next_url: str | None


class _RedisStateStore:
    """Where Authlib keeps each flow's state, PKCE verifier and nonce (the browser's session
    cookie holds only the flow's key and expiry), so none is readable by the browser."""

    def __init__(self, redis: Redis):
        self._redis = redis

    def get(self, key: str):
        return self._redis.get(_STATE_KEY.format(key))

    def set(self, key: str, value: str, expires_in: int) -> None:
        self._redis.set(_STATE_KEY.format(key), value, ex=expires_in)

    def delete(self, key: str) -> None:
        self._redis.delete(_STATE_KEY.format(key))


class IdentityProviders:
    """The configured providers, each with its Authlib client (which keeps the provider's
    discovery document and keys once fetched, and fetches the keys again for an unknown key
    id)."""

    def __init__(self, app: Flask, providers: tuple[IdentityProvider, ...]):
        self.providers = providers
        self._oauth = OAuth(app, cache=_RedisStateStore(app.extensions["redis"]))
        for provider in providers:
            self._oauth.register(
                _client_name(provider.agency), client_id=provider.client_id,
                client_secret=provider.client_secret,
                server_metadata_url=provider.discovery_url,
                client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                               "default_timeout": PROVIDER_TIMEOUT_SECONDS})

    def provider(self, agency: str) -> IdentityProvider:
        for provider in self.providers:
            if provider.agency == agency:
                return provider
        raise NotFound()

    def client(self, agency: str):
        self.provider(agency)
        return self._oauth.create_client(_client_name(agency))


def _client_name(agency: str) -> str:
    return f"oidc_{agency}"


def init_oidc_sign_in(app: Flask) -> None:
    app.extensions["identity_providers"] = IdentityProviders(app, app.config["OIDC_PROVIDERS"])


def identity_providers() -> IdentityProviders:
    return current_app.extensions["identity_providers"]


def sign_in_buttons(session: Session, providers: IdentityProviders) -> list[ProviderButton]:
    """A button per configured provider, in the setting's order, with its agency's name."""
    if not providers.providers:
        return []
    names = {slug: name for slug, name in session.execute(select(Agency.slug, Agency.name))}
    return [ProviderButton(agency=provider.agency, label=f"Sign in with {provider.name}",
                           agency_name=names.get(provider.agency, ""))
            for provider in providers.providers]


def begin_oidc_sign_in(providers: IdentityProviders, agency: str,
                       next_url: str | None) -> Response:
    """The redirect to this agency's provider that starts a sign-in (NotFound for an agency
    without one); `next_url` is where the person goes once signed in."""
    client = providers.client(agency)
    browser_session[_NEXT_KEY] = next_url
    try:
        return client.authorize_redirect(public_url("sign_in.oidc_callback", agency=agency))
    except RequestException as exc:
        raise _unreachable(providers.provider(agency), exc) from None


def finish_oidc_sign_in(session: Session, sessions: StaffSessions,
                        providers: IdentityProviders, agency: str) -> SignedIn:
    """Sign in the person the provider sent back (the callback's request): the new staff
    session and where to go next. OidcSignInFailed when the exchange or the ID token fails a
    check, OidcAccountRefused when no active user of this agency matches."""
    provider = providers.provider(agency)
    claims = _verified_claims(providers.client(agency), provider)
    user = _matching_user(session, provider, claims)
    session_id = start_session(session, sessions, user, how="oidc")
    return SignedIn(session_id=session_id, next_url=browser_session.pop(_NEXT_KEY, None))


def _verified_claims(client, provider: IdentityProvider) -> dict:
    checks = {"iss": {"essential": True, "value": provider.issuer},
              "aud": {"essential": True, "value": provider.client_id}}
    try:
        token = client.authorize_access_token(claims_options=checks,
                                              leeway=CLOCK_LEEWAY_SECONDS)
    except OAuthError as exc:
        log.info("OIDC sign-in for %s refused by the protocol: %s", provider.agency, exc)
        raise OidcSignInFailed(_protocol_reason(exc, provider)) from None
    except JoseError as exc:
        log.warning("OIDC sign-in for %s: ID token refused: %r", provider.agency, exc)
        raise OidcSignInFailed(f"{provider.name} sent back a sign-in we could not verify. "
                               "Start again from the sign-in page.") from None
    except RequestException as exc:
        raise _unreachable(provider, exc) from None
    claims = token.get("userinfo")
    if not claims:
        raise OidcSignInFailed(f"{provider.name} did not say who you are. "
                               "Start again from the sign-in page.")
    return dict(claims)


def _protocol_reason(exc: OAuthError, provider: IdentityProvider) -> str:
    if exc.error == "access_denied":
        return f"You did not finish signing in with {provider.name}. Start again when ready."
    if exc.error == "mismatching_state":
        return ("This sign-in was not started in this browser, or was started over an hour "
                "ago. Start again from the sign-in page.")
    return f"{provider.name} did not accept this sign-in. Start again from the sign-in page."


def _unreachable(provider: IdentityProvider, exc: Exception) -> OidcSignInFailed:
    log.warning("OIDC provider of %s unreachable: %r", provider.agency, exc)
    return OidcSignInFailed(f"{provider.name} is not answering. Try again in a few minutes, "
                            "or ask for an emailed sign-in link.", status=502)


def _is_verified(claims: dict, provider: IdentityProvider) -> bool:
    """The provider vouches for the address: `email_verified` true, or no such claim (Entra
    ID) and the address in one of the agency's own domains."""
    verified = claims.get("email_verified")
    if verified is None:
        return claims["email"].rpartition("@")[2].lower() in provider.email_domains
    return verified is True or (isinstance(verified, str) and verified.lower() == "true")


def _matching_user(session: Session, provider: IdentityProvider, claims: dict) -> StaffUser:
    email = claims.get("email")
    if not isinstance(email, str) or not email or not _is_verified(claims, provider):
        raise OidcAccountRefused(f"{provider.name} has not confirmed your email address, so "
                                 "we cannot tell which account is yours. Ask your agency's IT "
                                 "team to confirm it.")
    user = session.scalar(select(StaffUser).where(
        StaffUser.email == normalise_email(email), StaffUser.agency == provider.agency))
    if user is None or not user.active or user.oidc_subject not in (None, claims["sub"]):
        log.info("OIDC sign-in for %s refused: no active user matching subject %s",
                 provider.agency, claims["sub"])
        raise OidcAccountRefused(f"There is no active console account for {email} at this "
                                 "agency. Ask an admin of your agency to add you.")
    user.oidc_subject = claims["sub"]
    session.flush()  # written before start_session reads the row again, locked
    return user
