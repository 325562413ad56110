"""The agencies whose staff sign in through their own identity provider (OpenID Connect), as
the OIDC_PROVIDERS setting declares them: one provider per agency at most.

The setting is a JSON list, one object per agency:

    [{"agency": "council", "name": "Riverside Council staff account",
      "issuer": "https://login.riverside.example", "client_id": "civicpanel",
      "client_secret": "..."}]

`issuer` is the provider's issuer exactly as its discovery document
(`<issuer>/.well-known/openid-configuration`) and its ID tokens give it; `name` is what the
sign-in page's button says ("Sign in with <name>").

`email_domains` (optional) lists the mail domains the agency's own directory holds, e.g.
["riverside.gov.uk"]: an address in one of them is taken from the ID token although the token
has no `email_verified` claim, as Microsoft Entra ID sends none. Only list domains whose
addresses nobody but the agency's IT team can give out at that provider.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

FIELDS = ("agency", "name", "issuer", "client_id", "client_secret")
OPTIONAL = ("email_domains",)
DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class IdentityProvidersInvalid(ValueError):
    """OIDC_PROVIDERS cannot be read; the message says where."""


@dataclass(frozen=True)
class IdentityProvider:
    agency: str  # the agency's code (its slug)
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    email_domains: tuple[str, ...] = ()

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_identity_providers(value: str, *, production: bool) -> tuple[IdentityProvider, ...]:
    """The providers a setting declares (empty: none); IdentityProvidersInvalid when it is not
    a JSON list of objects with exactly FIELDS, all non-empty text, one per agency, each issuer
    an https address (http is taken outside production, for a provider on loopback)."""
    if not value.strip():
        return ()
    try:
        entries = json.loads(value)
    except json.JSONDecodeError as exc:
        raise IdentityProvidersInvalid(f"not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise IdentityProvidersInvalid("must be a JSON list of providers, one per agency")
    providers = tuple(_provider(index, entry, production) for index, entry in enumerate(entries))
    agencies = [provider.agency for provider in providers]
    repeated = sorted({agency for agency in agencies if agencies.count(agency) > 1})
    if repeated:
        raise IdentityProvidersInvalid(f"more than one provider for {', '.join(repeated)}")
    return providers


def _provider(index: int, entry: object, production: bool) -> IdentityProvider:
    where = f"provider {index + 1}"
    if not isinstance(entry, dict) or not set(FIELDS) <= set(entry) <= {*FIELDS, *OPTIONAL}:
        raise IdentityProvidersInvalid(f"{where} must have exactly: {', '.join(FIELDS)} "
                                       f"(and may have {', '.join(OPTIONAL)})")
    blank = [name for name in FIELDS if not isinstance(entry[name], str) or not entry[name].strip()]
    if blank:
        raise IdentityProvidersInvalid(f"{where}: {', '.join(blank)} must be non-empty text")
    issuer = urlsplit(entry["issuer"])
    schemes = ("https",) if production else ("https", "http")
    if issuer.scheme not in schemes or not issuer.netloc or issuer.query or issuer.fragment:
        raise IdentityProvidersInvalid(
            f"{where}: issuer must be an {' or '.join(schemes)} address, not {entry['issuer']!r}")
    return IdentityProvider(**{name: entry[name].strip() for name in FIELDS},
                            email_domains=_domains(where, entry.get("email_domains", [])))


def _domains(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
            isinstance(domain, str) and DOMAIN.fullmatch(domain.strip().lower())
            for domain in value):
        raise IdentityProvidersInvalid(
            f"{where}: email_domains must be a list of mail domains, like [\"council.gov.uk\"]")
    return tuple(domain.strip().lower() for domain in value)
