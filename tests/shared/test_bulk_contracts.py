"""The big fan-outs' fast contract paths agree with marshmallow on everything: what they take,
what they give, and (by leaving it to marshmallow) what they refuse and why."""

from __future__ import annotations

import copy
import json
import random
import uuid

import pytest
from marshmallow import ValidationError, validate

from shared import bulk_contracts
from shared.messages import (
    _FAST_DUMPS,
    _FAST_LOADS,
    CHANNELS,
    DELIVERY_TEMPLATES,
    MESSAGE_TYPES,
    ContractError,
    DeliveryStatusSchema,
    build_message,
    dump_payload,
    load_payload,
    read_message,
)

REF = str(uuid.uuid4())
PROFILE = {"age_band": "16-24", "gender": "female", "ethnicity": "white", "disability": "none",
           "area": "E05001001"}
VALID = {
    "panel.deliver": [
        {"template": "invitation", "context": {"survey_title": "Parks", "purpose": ""},
         "recipients": [{"member_ref": REF, "delivery_ref": "invitation:1",
                         "link": "http://surveys.test/r/abc"},
                        {"member_ref": REF.upper(), "delivery_ref": "x" * 200, "link": None,
                         "text": "Q1 of 3: how safe? Reply 1-5", "channel": "sms"}]},
        {"template": "dialogue", "context": {},
         "recipients": [{"member_ref": REF, "delivery_ref": "d", "text": "é" * 1600,
                         "channel": "email"}]},
    ],
    "surveys.sample_drawn": [
        {"survey_id": 3, "draw_id": "launch", "shortfall": 0, "members": [
            {"member_ref": REF, "channel": "sms", "language": "cy", "profile": PROFILE},
            {"member_ref": REF, "channel": "email", "profile": {
                **PROFILE, "deprivation_decile": 10, "tenure": "owner",
                "extra": {"carer": "yes"}}}],
         "cells": [{"cell": {"area": "E05001001"}, "target": 2, "drawn": 2, "shortfall": 0}]},
        {"survey_id": 3, "shortfall": 5, "members": []},
    ],
    "surveys.delivery_report": [
        {"deliveries": [{"delivery_ref": "invitation:1", "status": "sent"},
                        {"delivery_ref": "reminder:1:2", "status": "unconfirmed"}]},
        {"deliveries": []},
    ],
}
ODD = [None, "", 0, 11, True, 1.5, "x" * 201, "y" * 1601, "not a uuid", [], {}, {"unknown": 1},
       "sms", "fax", "5", "ftp:/nope", "http://surveys.test/r/ok", "http://surveys.test/r/a b",
       "http://bad_host/r/x", "http://surveys.test?x/r/y", "https://[::1]:8/r/t",
       "mailto://x/y", "http://x/\u00a0"]


def mutations(value, rng: random.Random, count: int):
    """Copies of a payload with one value somewhere swapped for an odd one, or a key dropped
    or added."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, item in node.items():
                paths.append((*path, key))
                walk(item, (*path, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                paths.append((*path, index))
                walk(item, (*path, index))

    walk(value, ())
    for _ in range(count):
        mutated = copy.deepcopy(value)
        *parents, last = rng.choice(paths)
        node = mutated
        for step in parents:
            node = node[step]
        action = rng.random()
        if action < 0.15 and isinstance(node, dict):
            del node[last]
        elif action < 0.25 and isinstance(node, dict):
            node[rng.choice(["extra_key", "link", "text", "channel", "tenure", "language"])] = \
                rng.choice(ODD)
        else:
            node[last] = copy.deepcopy(rng.choice(ODD))
        yield mutated


def schema_load(name, payload):
    try:
        return MESSAGE_TYPES[name].schema().load(payload), None
    except ValidationError as exc:
        return None, exc.messages


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_valid_fan_out_loads_and_dumps_exactly_as_its_schema_does(name):
    schema = MESSAGE_TYPES[name].schema()
    for payload in VALID[name]:
        # The fast paths themselves answer these (marshmallow is only their fallback).
        assert bulk_contracts.attempt(_FAST_LOADS[name], payload) == schema.load(payload)
        assert bulk_contracts.attempt(_FAST_DUMPS[name], payload) == schema.dump(payload)
        assert load_payload(name, payload) == schema.load(payload)
        assert dump_payload(name, payload) == schema.dump(payload)
        loaded = schema.load(payload)  # what a sender holds: UUIDs, not strings
        assert dump_payload(name, loaded) == schema.dump(loaded)
        envelope = json.loads(json.dumps(build_message(name, payload)))
        assert read_message(name, envelope)["payload"] == schema.load(payload)


@pytest.mark.parametrize("name", sorted(VALID))
def test_whatever_marshmallow_refuses_is_refused_with_its_own_errors(name):
    rng = random.Random(f"{name}-15")
    tried = refused = 0
    base = json.loads(json.dumps(build_message(name, VALID[name][0])))
    for payload in VALID[name]:
        for mutated in mutations(payload, rng, 150):
            tried += 1
            expected, errors = schema_load(name, mutated)
            if errors is not None:
                refused += 1
                with pytest.raises(ValidationError) as caught:
                    load_payload(name, mutated)
                assert caught.value.messages == errors
                with pytest.raises(ContractError) as contract:
                    read_message(name, {**base, "payload": mutated})
                assert contract.value.errors == errors
            else:
                assert load_payload(name, mutated) == expected
    assert refused > tried / 4  # the odd values do break the contract, often


def test_the_fast_paths_know_the_contracts_vocabulary():
    assert bulk_contracts.CHANNELS == set(CHANNELS)
    assert bulk_contracts.DELIVERY_TEMPLATES == set(DELIVERY_TEMPLATES)
    status = DeliveryStatusSchema().fields["status"].validators[0]
    assert isinstance(status, validate.OneOf)
    assert bulk_contracts.DELIVERY_STATUSES == set(status.choices)


LINKS = ["http://surveys.test/r/abc", "https://surveys.example.org/r/" + "t" * 40,
         "http://localhost:5001/r/x", "http://127.0.0.1/r/", "http://surveys.test/",
         "http://surveys.test", "http://surveys.test/r/a b", "http://surveys.test/r/\u00a0",
         "http://bad_host/r/x", "http://surveys.test?x/r/y", "http://surveys.test#f/r",
         "https://[::1]:8/r/t", "mailto://x/y", "ftp://u:p@files.test/a", "http:///r/x",
         "HTTP://SURVEYS.TEST/R/X", "http://-bad.test/r", "surveys.test/r/x", "http://x/\n"]


@pytest.mark.parametrize("link", LINKS)
def test_a_link_is_taken_exactly_when_marshmallow_takes_it(link):
    payload = {"template": "invitation", "context": {}, "recipients": [
        {"member_ref": REF, "delivery_ref": "invitation:1", "link": link}]}
    # Twice: the second time the link's origin is known.
    for _ in range(2):
        expected, errors = schema_load("panel.deliver", payload)
        fast = bulk_contracts.attempt(_FAST_LOADS["panel.deliver"], payload)
        assert fast == expected
        assert (fast is None) == (errors is not None)
