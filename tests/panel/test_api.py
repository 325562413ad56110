"""The panel API: members added with validated, normalised contact details; keys and roles."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, insert, select

from services.panel.models import Member
from shared.db import new_session
from tests.scenario import bearer, member_payload, setup_agencies


def test_member_is_added_with_phone_normalised_to_e164(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = member_payload(5, "sms")
    payload["phone"] = "+44 (0)7700 900005"
    response = clients["panel"].post("/api/v1/members", json=payload,
                                     headers=bearer(keys["council"]["panel_manager"]))
    assert response.status_code == 201
    assert response.json["phone"] == "+447700900005"
    assert len(response.json["member_ref"]) == 36


def test_bad_member_gets_422_naming_each_field_and_reason(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = member_payload(1, "sms")
    payload["phone"] = "12"
    payload["profile"]["age_band"] = "12-15"
    payload["profile"]["area"] = "Riverside"
    response = clients["panel"].post("/api/v1/members", json=payload,
                                     headers=bearer(keys["council"]["panel_manager"]))
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert "phone" in errors
    assert set(errors["profile"]) == {"age_band", "area"}
    assert "ward code" in errors["profile"]["area"][0]


def test_sms_member_without_phone_is_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = member_payload(1, "email")
    payload["preferred_channel"] = "sms"
    response = clients["panel"].post("/api/v1/members", json=payload,
                                     headers=bearer(keys["council"]["panel_manager"]))
    assert response.status_code == 422
    assert "phone" in response.json["errors"]["json"]


def test_same_email_twice_is_a_duplicate(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    headers = bearer(keys["council"]["panel_manager"])
    assert clients["panel"].post("/api/v1/members", json=member_payload(1),
                                 headers=headers).status_code == 201
    again = member_payload(1)
    again["email"] = "PERSON1@example.org"
    response = clients["panel"].post("/api/v1/members", json=again, headers=headers)
    assert response.status_code == 409
    assert "email" in response.json["errors"]["json"]


def test_members_need_a_panel_manager_key(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    assert clients["panel"].get("/api/v1/members").status_code == 401
    assert clients["panel"].get("/api/v1/members", headers=bearer("cp_made-up")).status_code == 401
    officer = clients["panel"].get("/api/v1/members", headers=bearer(keys["police"]["officer"]))
    assert officer.status_code == 403


def test_a_revoked_key_stops_working_on_every_service(apps, clients, pump):
    from services.surveys.keys import revoke_key
    from shared.auth import display_prefix
    from shared.db import new_session

    keys = setup_agencies(apps, pump)
    key = keys["council"]["panel_manager"]
    assert clients["panel"].get("/api/v1/members", headers=bearer(key)).status_code == 200
    with apps["surveys"].app_context(), new_session() as session:
        revoke_key(session, apps["surveys"].extensions["bus"], key_prefix=display_prefix(key))
        session.commit()
    pump()
    for name in ("panel", "surveys", "feedback"):
        assert clients[name].get("/api/v1/surveys" if name == "surveys" else
                                 "/api/v1/members" if name == "panel" else "/api/v1/reports",
                                 headers=bearer(key)).status_code == 401


@pytest.mark.postgresql_only
def test_two_sign_ups_with_one_email_at_the_same_moment_leave_one_member(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    engine = apps["panel"].extensions["database"].engine
    answered: dict = {}

    def sign_up():
        answered["response"] = clients["panel"].post(
            "/api/v1/members", json=member_payload(1),
            headers=bearer(keys["council"]["panel_manager"]))

    with engine.connect() as other:
        # Another sign-up with this address, written but not yet committed: the API's check
        # for duplicates cannot see it, so only the database can stop the second member.
        other_sign_up = other.begin()
        other.execute(insert(Member).values(
            email="person1@example.org", preferred_channel="email", age_band="25-34",
            gender="female", ethnicity="white", disability="not_disabled", area="E05001001"))
        request = threading.Thread(target=sign_up)
        request.start()
        request.join(timeout=1.0)
        assert request.is_alive(), "the API's insert waits for the other sign-up to finish"
        other_sign_up.commit()
        request.join(timeout=30)
    response = answered["response"]
    assert response.status_code == 409
    assert "already on the panel" in response.json["errors"]["json"]["email"][0]
    with apps["panel"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Member).where(
            Member.email == "person1@example.org")) == 1


def _post_member(clients, keys, payload):
    return clients["panel"].post("/api/v1/members", json=payload,
                                 headers=bearer(keys["council"]["panel_manager"]))


def test_extras_must_be_declared_and_never_hold_contact_details(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    refused = {
        "nickname": "Sam",  # not declared by the partnership
        "carer": "sometimes",  # not one of yes|no
        "household_size": "four",  # not a whole number
        "club": "ring sam@example.net",  # free text, but an email address
    }
    for name, value in {**refused, "club": "call 07700 900123"}.items():
        payload = member_payload(1)
        payload["profile"]["extra"] = {name: value}
        response = _post_member(clients, keys, payload)
        assert response.status_code == 422, (name, value)
        assert name in response.json["errors"]["json"]["profile"]["extra"]
    for contact in ("SW1A 1AA", "https://example.net/sam", "+44 161 496 0123"):
        payload = member_payload(1)
        payload["profile"]["extra"] = {"club": contact}
        reason = _post_member(clients, keys, payload).json["errors"]["json"]["profile"]["extra"]
        assert "looks like" in reason["club"][0], contact
    payload = member_payload(1)
    payload["profile"]["extra"] = {"carer": "yes", "household_size": "3", "club": "Allotments"}
    assert _post_member(clients, keys, payload).status_code == 201


def test_landlines_and_doubled_plus_are_refused_for_texting(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    for number in ("0161 496 0123", "0800 123 4567", "++44 7700 900123"):
        payload = member_payload(1, "sms")
        payload["phone"] = number
        response = _post_member(clients, keys, payload)
        assert response.status_code == 422, number
        assert "UK mobile number" in response.json["errors"]["json"]["phone"][0]
    payload = member_payload(1, "sms")
    payload["phone"] = "07911 123456"  # a real mobile range
    assert _post_member(clients, keys, payload).json["phone"] == "+447911123456"


def test_language_is_english_or_welsh_as_everywhere_else(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    payload = {**member_payload(1), "language": "fr"}
    assert "language" in _post_member(clients, keys, payload).json["errors"]["json"]
    assert _post_member(clients, keys, {**payload, "language": "cy"}).json["language"] == "cy"


def test_every_upload_documents_its_csv_body(apps, clients):
    spec = clients["panel"].get("/api/v1/openapi.json").json
    for path in ("/api/v1/imports", "/api/v1/population-targets"):
        body = spec["paths"][path]["post"]["requestBody"]["content"]
        assert set(body) == {"multipart/form-data", "text/csv"}, path
        assert body["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    imports = spec["paths"]["/api/v1/imports"]["post"]["requestBody"]["description"]
    assert "external_id (required)" in imports and "extra_<name>" in imports
    targets = spec["paths"]["/api/v1/population-targets"]["post"]["requestBody"]["description"]
    assert "area_name" in targets and "deprivation_decile: 1, 2" in targets
