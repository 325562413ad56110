"""Erasure reaches every service and leaves no personal data; subject access shows it all."""

from __future__ import annotations

from sqlalchemy import select

from services.panel.models import ContactEvent, Delivery, Member
from shared.db import new_session
from tests.panel.factories import keep_draw_in_panel, make_members, run_draw
from tests.panel.test_joining import _deliver
from tests.scenario import bearer, setup_agencies


def test_erasing_a_member_removes_their_data_and_tells_surveys_and_feedback(
        apps, clients, pump, redis_server):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["council"]["panel_manager"])
    refs = make_members(apps["panel"], 2, channel="sms")
    run_draw(apps["panel"], size=2)
    keep_draw_in_panel(apps["panel"])
    _deliver(apps, "invitation", refs[0])
    pump()
    assert clients["panel"].delete(f"/api/v1/members/{refs[0]}", headers=manager).status_code \
        == 204
    with apps["panel"].app_context(), new_session() as session:
        erased = session.scalar(select(Member).where(Member.phone.is_(None)))
        outbox_types = [r.type for r in session.scalars(
            select(apps["panel"].extensions["bus"].outbox_model))]
        delivery = session.scalars(select(Delivery)).one()
        events = session.scalars(select(ContactEvent.member_id)).all()
    assert erased.status == "erased" and erased.email is None and erased.member_ref != refs[0]
    assert erased.age_band == "erased"
    assert delivery.member_ref != refs[0] and delivery.body == ""
    assert erased.id not in events and len(events) == 1
    assert {"surveys.member_erased", "feedback.member_erased"} <= set(outbox_types)
    pump()  # the other services' handlers run on their real workers
    assert clients["panel"].get(f"/api/v1/members/{refs[0]}", headers=manager).status_code == 404
    assert run_draw(apps["panel"], survey_id=9, size=2)["members"] == []  # other one capped


def test_subject_access_export_returns_everything_held_as_json(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["health"]["panel_manager"])
    refs = make_members(apps["panel"], 1)
    run_draw(apps["panel"], survey_id=4, size=1, sponsors=["health", "police"])
    keep_draw_in_panel(apps["panel"])
    clients["panel"].post(f"/api/v1/members/{refs[0]}/agency-opt-outs", headers=manager,
                          json={"agency": "college"})
    _deliver(apps, "invitation", refs[0])
    pump()
    export = clients["panel"].get(f"/api/v1/members/{refs[0]}/export", headers=manager)
    assert export.status_code == 200 and export.is_json
    body = export.json
    assert body["member"]["email"] == "m0@example.org"
    assert body["member"]["profile"]["age_band"] == "25-34"
    assert body["invitations_reserved"][0]["sponsors"] == ["health", "police"]
    assert body["agency_opt_outs"][0]["agency"] == "college"
    assert body["messages"][0]["template"] == "invitation" and body["messages"][0]["body"]
    assert {c["purpose"] for c in body["consent_history"]} >= {"surveys"}
    assert clients["panel"].get(f"/api/v1/members/{refs[0]}/export",
                                headers=bearer(keys["health"]["analyst"])).status_code == 403


def test_consent_withdrawn_by_purpose_is_recorded_with_time_and_source(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["council"]["panel_manager"])
    refs = make_members(apps["panel"], 1)
    response = clients["panel"].patch(f"/api/v1/members/{refs[0]}/consent", headers=manager,
                                      json={"outcomes": False, "source": "phone call"})
    assert response.status_code == 200 and response.json["consent"]["outcomes"] is False
    history = clients["panel"].get(f"/api/v1/members/{refs[0]}/export",
                                   headers=manager).json["consent_history"]
    assert history[-1]["source"] == "phone call" and history[-1]["agency"] == "council"
    assert history[-1]["recorded_at"]
    bad = clients["panel"].patch(f"/api/v1/members/{refs[0]}/consent", headers=manager,
                                 json={"outcomes": "perhaps"})
    assert bad.status_code == 422 and "outcomes" in bad.json["errors"]["json"]
