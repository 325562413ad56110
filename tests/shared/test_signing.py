"""Links a member follows are signed one way: forged, altered or cross-purpose tokens fail."""

from __future__ import annotations

from services.feedback.member_links import member_ref_from_token, member_token
from shared.signing import sign, unsign

SECRET = "a-secret-of-the-service-long-enough-for-prod"
REF = "6f1c2a9e-0d3b-4c55-9a1e-2b7d8c9e0f11"


def test_a_token_names_its_value_only_for_its_purpose_and_secret():
    token = sign(SECRET, "panel.unsubscribe", REF)
    assert unsign(SECRET, "panel.unsubscribe", token) == REF
    assert unsign(SECRET, "panel.confirm", token) is None, "an unsubscribe link confirms nothing"
    assert unsign("another-secret", "panel.unsubscribe", token) is None
    assert unsign(SECRET, "panel.unsubscribe", token.replace(REF, REF[::-1])) is None
    assert unsign(SECRET, "panel.unsubscribe", "not a token") is None


def test_a_member_page_token_gives_back_the_member_and_refuses_a_tampered_one():
    token = member_token(REF, SECRET)
    assert member_ref_from_token(token, SECRET) == REF
    ref_hex, _, signature = token.partition(".")
    other = "0" * 32
    assert member_ref_from_token(f"{other}.{signature}", SECRET) is None
    assert member_ref_from_token(f"{ref_hex}.", SECRET) is None
