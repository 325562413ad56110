"""Message contracts: what a sender dumps, a receiver loads; every job path is real."""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.messages import MESSAGE_TYPES, ContractError, build_message, read_message

REF = uuid.uuid4()
KEY = {"key_hash": "a" * 64, "key_prefix": "cp_abcdef", "agency": "council", "role": "officer",
       "label": ""}
EXAMPLES = {
    "panel.staff_email": {"to": "officer@council.example", "subject": "Sign in",
                          "body": "Use this link: http://surveys.test/sign-in/abc"},
    "panel.draw_sample": {"survey_id": 1, "size": 10, "sponsors": ["council"], "seed": 7},
    "panel.deliver": {"template": "invitation", "context": {"survey_title": "Parks"},
                      "recipients": [{"member_ref": REF, "delivery_ref": "invitation:1",
                                      "link": "http://surveys.test/r/abc"}]},
    "panel.count_eligible": {"survey_id": 1, "request_id": str(uuid.uuid4()), "size": 10,
                             "sponsors": ["council", "police"],
                             "quotas": [{"cell": {"area": "E05001001"}, "target": 6}],
                             "filters": {"area": ["E05001001"]}, "channels": ["email"]},
    "surveys.eligible_counts": {
        "survey_id": 1, "request_id": str(uuid.uuid4()),
        "measured_at": datetime(2026, 12, 2, 11, tzinfo=UTC), "cells": [
            {"cell": {"area": "E05001001"}, "target": 6, "members": 9, "opted_out": 1,
             "no_consent": 1, "other_channel": 0, "at_cap": 2, "eligible": 5, "shortfall": 1}]},
    "panel.contacts_unused": {"survey_id": 1, "draw_id": "launch", "member_refs": [REF]},
    "panel.api_key_issued": KEY,
    "panel.api_key_revoked": {"key_hash": "a" * 64},
    "panel.agency_named": {"agency": "college", "name": "Riverside College"},
    "surveys.sample_drawn": {"survey_id": 1, "shortfall": 0, "members": [
        {"member_ref": REF, "channel": "sms", "profile": {
            "age_band": "16-24", "gender": "male", "ethnicity": "black",
            "disability": "disabled", "area": "E05001001"}}]},
    "surveys.delivery_report": {"deliveries": [{"delivery_ref": "invitation:1",
                                                "status": "sent"}]},
    "feedback.survey_closed": {
        "survey_id": 1, "title": "Parks", "purpose": "Decide on parks", "scope": "Opening hours",
        "decision": {"description": "Park hours", "owner": "Parks board", "due": date(2027, 1, 1)},
        "sponsors": ["council"], "closed_at": datetime(2026, 11, 1, tzinfo=UTC), "invited": 3,
        "questions": [{"code": "q1", "text": "Which?", "type": "single_choice", "base": 2,
                       "counts": {"A": 1, "B": 1}, "mean": None, "comments": 0}],
        "respondent_refs": [REF],
        "themes": [{"question_code": "comments", "question_text": "Anything else?",
                    "label": "Street lights, dark", "count": 40, "share": 0.4,
                    "weighted": True, "quotes": ["The lights are out", "Too dark at night"]},
                   {"question_code": "comments", "question_text": "Anything else?",
                    "label": "Buses", "count": None, "share": None, "quotes": []}]},
    "feedback.survey_themes": {"survey_id": 1, "themes": [
        {"question_code": "comments", "question_text": "Anything else?", "label": "Buses",
         "count": 12, "share": 0.12, "weighted": False, "quotes": ["Buses are late"]}]},
    "surveys.find_themes": {"run_id": 1},
    "feedback.api_key_issued": KEY,
    "feedback.report_published": {"report_id": 1},
    "surveys.sms_reply": {"member_ref": REF, "body": " 2 ", "provider_id": "SM" + "0" * 32,
                          "received_at": datetime(2026, 11, 2, tzinfo=UTC)},
    "surveys.member_erased": {"member_ref": REF},
    "feedback.member_erased": {"member_ref": REF},
    "surveys.population_targets": {"vintage": "Census 2021, May 2022 wards", "areas": {
        "E05001001": {"age_band": {"16-24": 1200.0, "25-34": 1500.0}}}},
    "feedback.api_key_revoked": {"key_hash": "a" * 64},
    "panel.import_members": {"import_id": 1},
    "panel.confirm_join": {"member_ref": REF},
    "panel.survey_respondents": {"survey_id": 7, "title": "Library opening hours",
                                 "sponsors": ["council", "police"],
                                 "sponsor_names": {"council": "Riverside Council"},
                                 "closed_at": datetime(2026, 11, 2, tzinfo=UTC),
                                 "respondent_refs": [REF]},
    "surveys.export_dataset": {"export_id": 1},
    "surveys.contact_cap_counts": {
        "measured_at": datetime(2026, 12, 2, 6, tzinfo=UTC), "areas": [
            {"area": "E05001001", "members": 120, "at_cap": 14,
             "next_free_at": datetime(2026, 12, 9, tzinfo=UTC),
             "all_free_at": datetime(2027, 2, 20, tzinfo=UTC)},
            {"area": "E05001002", "members": 80, "at_cap": 0, "next_free_at": None,
             "all_free_at": None}]},
    "surveys.staff_action": {"agency": "council", "role": "panel_manager",
                             "actor": "pat@council.example", "key_prefix": "",
                             "service": "panel", "action": "member_erased", "survey_ids": [],
                             "detail": {}, "at": datetime(2026, 11, 2, tzinfo=UTC)},
}


def test_every_message_type_has_an_example_here():
    assert set(EXAMPLES) == set(MESSAGE_TYPES)


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_contract_round_trips_through_json(name):
    import json

    envelope = json.loads(json.dumps(build_message(name, EXAMPLES[name])))
    loaded = read_message(name, envelope)
    assert loaded["type"] == name
    assert str(loaded["message_id"]) == envelope["message_id"]
    schema = MESSAGE_TYPES[name].schema()
    received = schema.dump(loaded["payload"])
    assert keeps(received, schema.dump(EXAMPLES[name]))
    assert schema.dump(schema.load(received)) == received


def keeps(received, sent) -> bool:
    """Everything sent arrives unchanged (the receiver may fill in defaults besides)."""
    if isinstance(sent, dict):
        return isinstance(received, dict) and all(
            key in received and keeps(received[key], value) for key, value in sent.items())
    if isinstance(sent, list):
        return isinstance(received, list) and len(received) == len(sent) and all(
            keeps(r, s) for r, s in zip(received, sent, strict=True))
    return received == sent


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_registered_job_path_imports_and_its_queue_is_its_service(name):
    kind = MESSAGE_TYPES[name]
    module_path, _, function = kind.job_path.rpartition(".")
    assert callable(getattr(importlib.import_module(module_path), function))
    assert module_path == f"services.{kind.queue}.jobs"
    assert name.startswith(kind.queue + ".")


def test_receiver_refuses_a_message_breaking_its_contract_naming_the_fields():
    envelope = build_message("panel.draw_sample", {"survey_id": 1, "size": 0, "sponsors": []})
    with pytest.raises(ContractError) as caught:
        read_message("panel.draw_sample", json.loads(json.dumps(envelope)))
    assert set(caught.value.errors) == {"size", "sponsors"}


def test_receiver_refuses_a_message_of_another_type():
    envelope = build_message("panel.api_key_revoked", {"key_hash": "a" * 64})
    with pytest.raises(ContractError):
        read_message("feedback.api_key_revoked", envelope)


def test_unknown_message_type_is_refused():
    with pytest.raises(ContractError):
        build_message("panel.make_tea", {})


def test_a_theme_carries_three_quotes_at_most():
    example = {**EXAMPLES["feedback.survey_themes"]}
    example["themes"] = [{**example["themes"][0], "quotes": ["a", "b", "c", "d"]}]
    with pytest.raises(ContractError) as refused:
        read_message("feedback.survey_themes", json.loads(json.dumps(
            build_message("feedback.survey_themes", example))))
    assert "quotes" in str(refused.value)
