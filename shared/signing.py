"""The one way links a member follows are signed (unsubscribe, confirm, their own page):
itsdangerous' Signer with SHA-256, a salt per purpose, and the service's SECRET_KEY."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, Signer


def _signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=f"civicpanel.{purpose}", digest_method=hashlib.sha256)


def sign(secret: str, purpose: str, value: str) -> str:
    """`value.signature`: the value stays readable; the signature makes it unforgeable."""
    return _signer(secret, purpose).sign(value).decode()


def unsign(secret: str, purpose: str, token: str) -> str | None:
    """The value a token signs for this purpose, or None when it was not signed so."""
    try:
        return _signer(secret, purpose).unsign(token).decode()
    except (BadSignature, UnicodeError):
        return None
