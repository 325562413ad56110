"""Settings for every civicpanel service, read once from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from shared.identity_providers import (
    IdentityProvider,
    IdentityProvidersInvalid,
    parse_identity_providers,
)
from shared.profile import ExtraAttribute, ExtraAttributesInvalid, parse_extra_attributes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

SERVICES = ("panel", "surveys", "feedback")
DEFAULT_PORTS = {"panel": 5001, "surveys": 5002, "feedback": 5003}

# The only environment names a service accepts: anything else (even "Production") is refused,
# since a typo must never start a production deployment in development mode.
ENVIRONMENTS = ("development", "production")
# Secrets each service refuses to start without in production.
PRODUCTION_SECRETS = {
    "panel": ("SECRET_KEY", "SMS_ACCOUNT_SID", "SMS_AUTH_TOKEN"),
    "surveys": ("SECRET_KEY",),
    "feedback": ("SECRET_KEY",),
}
# SECRET_KEY signs members' own links (member pages, unsubscribe, join confirmation): a short
# one can be guessed offline from any link a member forwards.
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when a service is configured in a way it cannot safely run."""


def parse_boolean(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def parse_int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not an integer: {value!r}") from exc


def parse_float(value: str | None, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"not a number: {value!r}") from exc


def parse_environment(value: str | None) -> str:
    if value is None or value == "":
        return "development"
    if value not in ENVIRONMENTS:
        raise ConfigError(f"CIVICPANEL_ENV must be one of {', '.join(ENVIRONMENTS)}, "
                          f"not {value!r}")
    return value


def text(env: Mapping[str, str], name: str, default: str) -> str:
    """A string setting; set but empty (as `KEY=` in an env file) counts as unset."""
    return env.get(name) or default


def parse_extra_attribute_setting(value: str | None) -> dict[str, ExtraAttribute]:
    try:
        return parse_extra_attributes(value or "")
    except ExtraAttributesInvalid as exc:
        raise ConfigError(f"PROFILE_EXTRA_ATTRIBUTES: {exc}") from exc


def parse_oidc_providers_setting(value: str | None,
                                 environment: str) -> tuple[IdentityProvider, ...]:
    try:
        return parse_identity_providers(value or "", production=environment == "production")
    except IdentityProvidersInvalid as exc:
        raise ConfigError(f"OIDC_PROVIDERS: {exc}") from exc


def default_database_url(service: str) -> str:
    return f"sqlite:///{VAR_DIR / (service + '.db')}"


def settings_from_env(service: str, environ: Mapping[str, str] | None = None) -> dict:
    """Every setting of one service as Flask config keys, from the environment."""
    env = os.environ if environ is None else environ
    prefix = service.upper()
    environment = parse_environment(env.get("CIVICPANEL_ENV"))
    return {
        "SERVICE_NAME": service,
        "CIVICPANEL_ENV": environment,
        "SECRET_KEY": text(env, "SECRET_KEY", ""),
        "DATABASE_URL": env.get(f"{prefix}_DATABASE_URL") or default_database_url(service),
        "REDIS_URL": text(env, "REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PANEL_URL": text(env, "PANEL_URL", f"http://127.0.0.1:{DEFAULT_PORTS['panel']}"),
        "SURVEYS_URL": text(env, "SURVEYS_URL", f"http://127.0.0.1:{DEFAULT_PORTS['surveys']}"),
        "FEEDBACK_URL": text(env, "FEEDBACK_URL", f"http://127.0.0.1:{DEFAULT_PORTS['feedback']}"),
        "SMTP_HOST": text(env, "SMTP_HOST", ""),
        "SMTP_PORT": parse_int(env.get("SMTP_PORT"), 587),
        "SMTP_USERNAME": text(env, "SMTP_USERNAME", ""),
        "SMTP_PASSWORD": text(env, "SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": parse_boolean(env.get("SMTP_STARTTLS"), default=True),
        "MAIL_FROM": text(env, "MAIL_FROM", "civicpanel <panel@civicpanel.localhost>"),
        "SMS_GATEWAY_URL": text(env, "SMS_GATEWAY_URL", ""),
        "SMS_ACCOUNT_SID": text(env, "SMS_ACCOUNT_SID", ""),
        "SMS_AUTH_TOKEN": text(env, "SMS_AUTH_TOKEN", ""),
        "SMS_FROM": text(env, "SMS_FROM", ""),
        # Ofcom's drama range (07700 900xxx) is accepted outside production, for demos and tests.
        "ALLOW_DRAMA_NUMBERS": parse_boolean(
            env.get("ALLOW_DRAMA_NUMBERS"),
            default=environment != "production",
        ),
        "SMALL_CELL_THRESHOLD": parse_int(env.get("SMALL_CELL_THRESHOLD"), 10),
        # A closed survey with no report published after this many days is overdue.
        "FEEDBACK_OVERDUE_DAYS": parse_int(env.get("FEEDBACK_OVERDUE_DAYS"), 30),
        # Panel's one contact cap for the whole partnership: invitations per rolling window.
        "CONTACT_CAP_INVITATIONS": parse_int(env.get("CONTACT_CAP_INVITATIONS"), 3),
        "CONTACT_CAP_WINDOW_DAYS": parse_int(env.get("CONTACT_CAP_WINDOW_DAYS"), 90),
        "CONTACT_CAP_MIN_GAP_DAYS": parse_int(env.get("CONTACT_CAP_MIN_GAP_DAYS"), 14),
        "UNDER_REPRESENTED_RATIO": parse_float(env.get("UNDER_REPRESENTED_RATIO"), 0.8),
        "DELIVERY_BATCH_SIZE": parse_int(env.get("DELIVERY_BATCH_SIZE"), 1000),
        # How long panel waits for the mail server or SMS gateway to answer one message.
        "DELIVERY_TIMEOUT_SECONDS": parse_float(env.get("DELIVERY_TIMEOUT_SECONDS"), 30.0),
        "RELAY_INTERVAL_SECONDS": parse_float(env.get("RELAY_INTERVAL_SECONDS"), 0.2),
        # Sign-ups through the join page from one client address (flask-limiter's notation).
        "JOIN_RATE_LIMIT": text(env, "JOIN_RATE_LIMIT", "20 per hour"),
        # Reverse proxies in front of the web processes whose X-Forwarded-* headers to trust:
        # without it every citizen behind a proxy shares the proxy's address and its limits.
        "TRUSTED_PROXIES": parse_int(env.get("TRUSTED_PROXIES"), 0),
        # Days the bus tables keep sent outbox rows and handled inbox rows, and surveys keeps
        # finished export files (see shared/retention.py).
        "RETENTION_DAYS": retention_days(env.get("RETENTION_DAYS")),
        # The partnership's own profile attributes beyond the census ones, each with its
        # allowed values or a type, e.g. "carer=yes|no;household_size=integer": nothing else
        # may be stored in a member's profile `extra`.
        "PROFILE_EXTRA_ATTRIBUTES": parse_extra_attribute_setting(
            env.get("PROFILE_EXTRA_ATTRIBUTES")),
        # The largest request body taken, in bytes (413 beyond): a 20 MB CSV upload and its
        # multipart envelope fit.
        "MAX_CONTENT_LENGTH": parse_int(env.get("MAX_CONTENT_LENGTH"), 21 * 1024 * 1024),
        # Answers sent to /r/<token> from one client address (flask-limiter's notation):
        # generous, since a library's public computers share one address.
        "RESPONSE_RATE_LIMIT": text(env, "RESPONSE_RATE_LIMIT", "60 per minute"),
        # The agencies that look after the shared panel: only their staff and keys may be
        # panel managers, who read every member's contact details. Empty: every agency.
        "PANEL_AGENCIES": frozenset(
            slug.strip() for slug in text(env, "PANEL_AGENCIES", "").split(",") if slug.strip()),
        # The partnership's name, in the staff console's header.
        "PARTNERSHIP_NAME": text(env, "PARTNERSHIP_NAME", "civicpanel partnership"),
        # A staff session ends after this long without a request, and after this long in all.
        "STAFF_IDLE_MINUTES": parse_int(env.get("STAFF_IDLE_MINUTES"), 30),
        "STAFF_SESSION_HOURS": parse_int(env.get("STAFF_SESSION_HOURS"), 12),
        # Sign-in links asked for, per client address and per email address.
        "SIGN_IN_RATE_LIMIT_ADDRESS": text(env, "SIGN_IN_RATE_LIMIT_ADDRESS", "20 per hour"),
        "SIGN_IN_RATE_LIMIT_ACCOUNT": text(env, "SIGN_IN_RATE_LIMIT_ACCOUNT", "5 per hour"),
        # Agencies whose staff sign in through their own OpenID Connect provider (a JSON list,
        # see shared/identity_providers.py); the rest use emailed links only.
        "OIDC_PROVIDERS": parse_oidc_providers_setting(env.get("OIDC_PROVIDERS"), environment),
    }


def retention_days(value: str | None) -> int:
    """RETENTION_DAYS, never shorter than a failed job may wait to be requeued: a message
    arriving again after its inbox row was pruned would apply twice."""
    from shared.bus import FAILURE_TTL_SECONDS

    days = parse_int(value, 30)
    shortest = FAILURE_TTL_SECONDS // 86400 + 1
    if days < shortest:
        raise ConfigError(f"RETENTION_DAYS must be at least {shortest} (failed jobs are kept "
                          f"{FAILURE_TTL_SECONDS // 86400} days and may be requeued): {days}")
    return days


def check_production_secrets(config: Mapping) -> None:
    """Refuse an unknown environment, a blank secret, and in production a secret left unset or
    a SECRET_KEY too short to be safe."""
    service = config["SERVICE_NAME"]
    parse_environment(config.get("CIVICPANEL_ENV"))
    blank = [key for key in PRODUCTION_SECRETS[service]
             if config.get(key) and not str(config[key]).strip()]
    if blank:
        raise ConfigError(f"{service}: {', '.join(blank)} is blank; set a real value or leave "
                          "it unset")
    if config.get("CIVICPANEL_ENV") != "production":
        return
    missing = [key for key in PRODUCTION_SECRETS[service] if not config.get(key)]
    if missing:
        raise ConfigError(f"{service}: production mode needs {', '.join(missing)} to be set")
    if len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(f"{service}: SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} "
                          "characters in production, e.g. python -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))'")
