"""The panel API: members added with validated, normalised contact details; keys and roles."""

from __future__ import annotations

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
