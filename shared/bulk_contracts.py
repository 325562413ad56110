"""The contracts of the three big fan-out messages, checked and dumped without marshmallow's
per-field machinery: a launch to 100,000 members carries 100,000 recipients in panel.deliver,
as many sampled members in surveys.sample_drawn and as many statuses in
surveys.delivery_report, and marshmallow spent tens of microseconds on each of them.

These are fast paths, not second contracts. Each takes only what it is sure its marshmallow
schema (in shared/messages.py) takes, and gives exactly what that schema would give; anything
else, the slightest doubt included, answers None, and the caller goes through marshmallow,
which then accepts it or refuses it with its usual errors. So a message breaking its contract
is refused exactly as before, with the same field errors (tests/shared/test_bulk_contracts.py
checks that the two agree).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from marshmallow import ValidationError, validate

CHANNELS = frozenset(("email", "sms"))
DELIVERY_TEMPLATES = frozenset(("invitation", "reminder", "outcome", "progress", "dialogue"))
DELIVERY_STATUSES = frozenset(("sent", "delivered", "failed", "undelivered", "no_consent",
                               "opted_out", "unconfirmed"))
_RECIPIENT = frozenset(("member_ref", "delivery_ref", "link", "text", "channel"))
_SAMPLED = frozenset(("member_ref", "channel", "language", "profile"))
_PROFILE_REQUIRED = ("age_band", "gender", "ethnicity", "disability", "area")
_PROFILE = frozenset((*_PROFILE_REQUIRED, "deprivation_decile", "tenure", "extra"))
_URL = validate.URL(require_tld=False)  # fields.Url(require_tld=False)'s own validator
# Its expression is compiled at first use, which takes a tenth of a second or more: here, at
# import, once a process, not in a job.
_URL("http://surveys.test/")


class _Doubt(Exception):
    """Not sure: let marshmallow decide."""


def _one_of(value, choices: frozenset) -> bool:
    return type(value) is str and value in choices


def _text(value, *, none: bool = False) -> str | None:
    if type(value) is str or (none and value is None):
        return value
    raise _Doubt


def _strings(value) -> dict[str, str]:
    if type(value) is not dict:
        raise _Doubt
    for key, item in value.items():
        if type(key) is not str or type(item) is not str:
            raise _Doubt
    return dict(value)


def _uuid(value) -> uuid.UUID:
    if type(value) is not str:
        raise _Doubt
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Doubt from None


def _keys(value, allowed: frozenset) -> dict:
    if type(value) is not dict or not value.keys() <= allowed:
        raise _Doubt
    return value


def _valid_url(value: str) -> bool:
    try:
        _URL(value)
    except ValidationError:
        return False
    return True


_ORIGINS: dict[str, bool] = {}  # "scheme://host:port" -> whether origin + "/" is a valid URL
_NO_SPACE = re.compile(r"\S*\Z")


def _link(value) -> str | None:
    """A link as fields.Url(require_tld=False) takes it. Its validator's expression is the
    origin (scheme, user, host, port) and then "/" and any non-space characters, so the
    links of a batch, which share their origin, have it checked once."""
    if value is None:
        return None
    if type(value) is not str:
        raise _Doubt
    scheme, separator, rest = value.partition("://")
    slash = rest.find("/") if separator else -1
    if slash >= 0:
        origin = value[:len(scheme) + 3 + slash]
        valid = _ORIGINS.get(origin)
        if valid is None:
            valid = _valid_url(origin + "/")
            if len(_ORIGINS) < 256:
                _ORIGINS[origin] = valid
        if valid and _NO_SPACE.match(value, len(origin) + 1):
            return value
    elif _valid_url(value):
        return value
    raise _Doubt


def _recipient(item) -> dict:
    _keys(item, _RECIPIENT)
    delivery_ref = _text(item.get("delivery_ref"))
    text = _text(item.get("text"), none=True)
    channel = item.get("channel")
    if not 1 <= len(delivery_ref) <= 200 or (text is not None and len(text) > 1600) \
            or (channel is not None and not _one_of(channel, CHANNELS)):
        raise _Doubt
    return {"member_ref": _uuid(item.get("member_ref")), "delivery_ref": delivery_ref,
            "link": _link(item.get("link")), "text": text, "channel": channel}


def load_deliver(payload) -> dict:
    """DeliverMessage().load(payload), or _Doubt."""
    _keys(payload, frozenset(("template", "context", "recipients")))
    template, recipients = payload.get("template"), payload.get("recipients")
    if not _one_of(template, DELIVERY_TEMPLATES) \
            or type(recipients) is not list or not recipients:
        raise _Doubt
    return {"template": template, "context": _strings(payload.get("context")),
            "recipients": [_recipient(item) for item in recipients]}


def _profile(value) -> dict:
    _keys(value, _PROFILE)
    profile = {name: _text(value.get(name)) for name in _PROFILE_REQUIRED}
    decile = value.get("deprivation_decile")
    if decile is not None and (type(decile) is not int or not 1 <= decile <= 10):
        raise _Doubt
    profile["deprivation_decile"] = decile
    profile["tenure"] = _text(value.get("tenure"), none=True)
    profile["extra"] = _strings(value["extra"]) if "extra" in value else {}
    return profile


def _sampled(item) -> dict:
    _keys(item, _SAMPLED)
    channel = item.get("channel")
    if not _one_of(channel, CHANNELS):
        raise _Doubt
    return {"member_ref": _uuid(item.get("member_ref")), "channel": channel,
            "language": _text(item["language"]) if "language" in item else "en",
            "profile": _profile(item.get("profile"))}


def load_sample_drawn(payload, rest_schema) -> dict:
    """SampleDrawnMessage().load(payload), or _Doubt: the members here, the few other fields
    (survey, draw, shortfall, cells) through `rest_schema`, the schema without members."""
    _keys(payload, frozenset(("survey_id", "draw_id", "members", "shortfall", "cells")))
    members = payload.get("members")
    if type(members) is not list:
        raise _Doubt
    loaded = [_sampled(item) for item in members]
    try:
        rest = rest_schema.load({k: v for k, v in payload.items() if k != "members"})
    except ValidationError:
        raise _Doubt from None
    return {**rest, "members": loaded}


def load_delivery_report(payload) -> dict:
    """DeliveryReportMessage().load(payload), or _Doubt."""
    _keys(payload, frozenset(("deliveries",)))
    deliveries = payload.get("deliveries")
    if type(deliveries) is not list:
        raise _Doubt
    loaded = []
    for item in deliveries:
        _keys(item, frozenset(("delivery_ref", "status")))
        status = item.get("status")
        if not _one_of(status, DELIVERY_STATUSES):
            raise _Doubt
        loaded.append({"delivery_ref": _text(item.get("delivery_ref")), "status": status})
    return {"deliveries": loaded}


# -- dumping: what schema.dump gives, for payloads already made of plain values ---------------


def _dumped_ref(value) -> str:
    if type(value) is str or type(value) is uuid.UUID:
        return str(value)
    raise _Doubt


def _dump_recipient(item) -> dict:
    _keys(item, _RECIPIENT)
    dumped = {}
    for key, value in item.items():
        if key == "member_ref":
            dumped[key] = _dumped_ref(value)
        else:
            dumped[key] = _text(value, none=True)
    return dumped


def dump_deliver(payload) -> dict:
    _keys(payload, frozenset(("template", "context", "recipients")))
    if not {"template", "context", "recipients"} <= payload.keys() \
            or type(payload["recipients"]) is not list:
        raise _Doubt
    return {"template": _text(payload["template"]), "context": _strings(payload["context"]),
            "recipients": [_dump_recipient(item) for item in payload["recipients"]]}


def _dump_profile(value) -> dict:
    _keys(value, _PROFILE)
    dumped = {}
    for key, item in value.items():
        if key == "deprivation_decile":
            if item is not None and type(item) is not int:
                raise _Doubt
            dumped[key] = item
        elif key == "extra":
            dumped[key] = _strings(item)
        else:
            dumped[key] = _text(item, none=True)
    return dumped


def _dump_sampled(item) -> dict:
    _keys(item, _SAMPLED)
    dumped = {}
    for key, value in item.items():
        if key == "member_ref":
            dumped[key] = _dumped_ref(value)
        elif key == "profile":
            dumped[key] = _dump_profile(value)
        else:
            dumped[key] = _text(value, none=True)
    return dumped


def dump_sample_drawn(payload, rest_schema) -> dict:
    _keys(payload, frozenset(("survey_id", "draw_id", "members", "shortfall", "cells")))
    members = payload.get("members")
    if type(members) is not list:
        raise _Doubt
    rest = rest_schema.dump({k: v for k, v in payload.items() if k != "members"})
    return {**rest, "members": [_dump_sampled(item) for item in members]}


def dump_delivery_report(payload) -> dict:
    _keys(payload, frozenset(("deliveries",)))
    deliveries = payload.get("deliveries")
    if type(deliveries) is not list:
        raise _Doubt
    dumped = []
    for item in deliveries:
        _keys(item, frozenset(("delivery_ref", "status")))
        dumped.append({key: _text(value, none=True) for key, value in item.items()})
    return {"deliveries": dumped}


def attempt(fast: Callable[..., dict] | None, *args) -> dict | None:
    """The fast path's answer, or None when it has any doubt (or there is none)."""
    if fast is None:
        return None
    try:
        return fast(*args)
    except _Doubt:
        return None
