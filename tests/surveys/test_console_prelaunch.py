"""The pre-launch preview on the launch page: surveys asks panel over the queues how many
members each quota cell could be drawn from, says it is working until panel answers, then
shows each cell by name with its shortfall, a chart beside the table, and why the others
cannot be invited; the counts follow consent withdrawn, opt-outs and the contact cap, and the
launch then draws exactly what the preview said."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.panel.models import Outbox as PanelOutbox
from services.surveys.models import EligibilityCheck
from services.surveys.models import Outbox as SurveysOutbox
from shared.db import new_session
from tests.panel.test_targets import upload_targets
from tests.scenario import accept_invitations, bearer, member_payload, survey_payload
from tests.surveys.steps import invitations
from tests.surveys.test_console_launch import as_staff, text

CENTRAL, OLD_TOWN = "E05001001", "E05001002"


def join(clients, keys, index: int, area: str, channel: str = "email") -> str:
    created = clients["panel"].post("/api/v1/members", headers=bearer(
        keys["council"]["panel_manager"]), json=member_payload(index, channel, area=area))
    assert created.status_code == 201, created.json
    return created.json["member_ref"]


def questions_sent(apps, name: str) -> int:
    service, outbox = ("surveys", SurveysOutbox) if name.startswith("panel.") \
        else ("panel", PanelOutbox)
    with apps[service].app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(outbox)
                              .where(outbox.type == name))


def a_panel_with_reasons(apps, clients, pump) -> tuple[dict, list[str], list[str]]:
    """Riverside Central: 7 members, 2 resting under the cap (another survey drew them), then 1
    withdraws consent and 1 opts out of the police; Old Town: 3 by email, 1 by text only."""
    keys, _ = upload_targets(apps, clients, pump)
    pump()
    central = [join(clients, keys, i, CENTRAL) for i in range(7)]
    old_town = [join(clients, keys, 7 + i, OLD_TOWN) for i in range(3)]
    join(clients, keys, 10, OLD_TOWN, channel="sms")
    bins = clients["surveys"].post("/api/v1/surveys", headers=bearer(keys["council"]["officer"]),
                                   json=survey_payload(title="Bin collections", sample_size=2,
                                                       areas=[CENTRAL]))
    assert clients["surveys"].post(f"/api/v1/surveys/{bins.json['id']}/launch", headers=bearer(
        keys["council"]["officer"])).status_code == 202
    pump()
    resting = {i.member_ref for i in invitations(apps["surveys"], bins.json["id"])}
    assert len(resting) == 2
    free = [ref for ref in central if ref not in resting]
    manager = bearer(keys["council"]["panel_manager"])
    assert clients["panel"].patch(f"/api/v1/members/{free[0]}/consent", headers=manager,
                                  json={"surveys": False}).status_code == 200
    assert clients["panel"].post(f"/api/v1/members/{free[1]}/agency-opt-outs", headers=manager,
                                 json={"agency": "police"}).status_code == 201
    return keys, central, old_town


def joint_draft(clients, keys) -> int:
    created = clients["surveys"].post("/api/v1/surveys", headers=bearer(
        keys["council"]["officer"]), json=survey_payload(
            sponsors=[("council", "60.00"), ("police", "40.00")], sample_size=7,
            areas=[CENTRAL, OLD_TOWN], channels=["web"],
            quotas=[{"cell": {"area": CENTRAL}, "target": 4},
                    {"cell": {"area": OLD_TOWN}, "target": 3}]))
    assert created.status_code == 201, created.json
    accept_invitations(clients["surveys"], keys, created.json)
    return created.json["id"]


def test_the_launch_page_waits_for_panels_count_then_shows_each_cell_and_its_shortfall(
        apps, clients, pump):
    keys, _, _ = a_panel_with_reasons(apps, clients, pump)
    survey_id = joint_draft(clients, keys)
    as_staff(apps, clients)

    working = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert working.status_code == 200 and working.headers["Refresh"] == "2"
    assert "Panel is counting the members each quota cell could be drawn from" in text(working)
    assert "Launch the survey" in text(working)  # the checklist is met: counting stops nothing
    again = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert "Panel is counting" in text(again)
    assert questions_sent(apps, "panel.count_eligible") == 1  # asked once, not per refresh

    pump()  # surveys' question to panel, panel's answer back
    ready = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert ready.status_code == 200 and "Refresh" not in ready.headers
    words = text(ready)
    assert "Panel is counting" not in words
    assert "1 of 2 quota cells is short: the draw would invite 1 fewer member than the 7 it " \
        "asks for." in words
    assert "Ward: Riverside Central 4 3 Short by 1" in words
    assert "Ward: Old Town 3 3 None" in words
    # Why the others cannot be invited: members, resting under the cap, opted out, no consent,
    # another channel, eligible now.
    assert "Ward: Riverside Central 7 2 1 1 0 3" in words
    assert "Ward: Old Town 4 0 0 0 1 3" in words
    assert "E05001001" not in words  # names, not codes
    html = ready.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html
    assert "Its figures are in the table beside it." in html
    assert questions_sent(apps, "surveys.eligible_counts") == 1


def test_counting_again_follows_consent_withdrawn_and_the_launch_draws_what_it_said(
        apps, clients, pump, smtp_server):
    keys, _, old_town = a_panel_with_reasons(apps, clients, pump)
    survey_id = joint_draft(clients, keys)
    as_staff(apps, clients)
    clients["surveys"].get(f"/surveys/{survey_id}/launch")
    pump()
    assert "Ward: Old Town 3 3 None" in text(clients["surveys"].get(
        f"/surveys/{survey_id}/launch"))

    # An Old Town member withdraws consent; the page still shows the count it had, until the
    # officer asks panel to count again.
    assert clients["panel"].patch(f"/api/v1/members/{old_town[0]}/consent", headers=bearer(
        keys["council"]["panel_manager"]), json={"surveys": False}).status_code == 200
    asked = clients["surveys"].post(f"/surveys/{survey_id}/launch/count")
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/surveys/{survey_id}/launch#eligible"
    waiting = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert "Panel is counting" in text(waiting) and waiting.headers["Refresh"] == "2"
    pump()
    words = text(clients["surveys"].get(f"/surveys/{survey_id}/launch"))
    assert "Ward: Old Town 3 2 Short by 1" in words
    assert "Ward: Old Town 4 0 0 1 1 2" in words
    assert "2 of 2 quota cells are short: the draw would invite 2 fewer members" in words

    # The launch's draw, by the same rules, invites exactly the eligible members counted.
    assert clients["surveys"].post(f"/surveys/{survey_id}/launch").status_code == 303
    pump()
    invited = invitations(apps["surveys"], survey_id)
    assert len(invited) == 5
    monitor = text(clients["surveys"].get(f"/surveys/{survey_id}/fieldwork"))
    assert "Invited 5" in monitor


def test_a_survey_changed_since_its_count_is_counted_again(apps, clients, pump):
    keys, _, _ = a_panel_with_reasons(apps, clients, pump)
    survey_id = joint_draft(clients, keys)
    as_staff(apps, clients)
    clients["surveys"].get(f"/surveys/{survey_id}/launch")
    pump()
    changed = clients["surveys"].patch(f"/api/v1/surveys/{survey_id}", headers=bearer(
        keys["council"]["officer"]), json={"quotas": [{"cell": {"area": CENTRAL}, "target": 2},
                                                      {"cell": {"area": OLD_TOWN}, "target": 3}]})
    assert changed.status_code == 200, changed.json
    assert "Panel is counting" in text(clients["surveys"].get(f"/surveys/{survey_id}/launch"))
    pump()
    words = text(clients["surveys"].get(f"/surveys/{survey_id}/launch"))
    assert "Ward: Riverside Central 2 3 None" in words
    assert "Every quota cell has enough eligible members for its target." in words
    assert questions_sent(apps, "panel.count_eligible") == 2
    with apps["surveys"].app_context(), new_session() as session:  # the older one is dropped
        assert session.scalar(select(func.count()).select_from(EligibilityCheck)) == 1


def test_the_count_without_quotas_is_one_row_against_the_sample_size(apps, clients, pump):
    keys, _, _ = a_panel_with_reasons(apps, clients, pump)
    created = clients["surveys"].post("/api/v1/surveys", headers=bearer(
        keys["council"]["officer"]), json=survey_payload(sample_size=20, areas=[OLD_TOWN]))
    as_staff(apps, clients)
    clients["surveys"].get(f"/surveys/{created.json['id']}/launch")
    pump()
    words = text(clients["surveys"].get(f"/surveys/{created.json['id']}/launch"))
    # Web and SMS links: the member who prefers texts can be invited too.
    assert "Everyone the survey may invite 20 4 Short by 16" in words
    assert "1 of 1 quota cell is short: the draw would invite 16 fewer members than the 20" \
        in words


def test_a_count_not_answered_in_a_minute_stops_the_page_refreshing_itself(apps, clients, pump):
    keys, _, _ = a_panel_with_reasons(apps, clients, pump)
    survey_id = joint_draft(clients, keys)
    as_staff(apps, clients)
    assert clients["surveys"].get(f"/surveys/{survey_id}/launch").headers["Refresh"] == "2"
    # Panel's worker has been away for two minutes since the question was asked.
    with apps["surveys"].app_context(), new_session() as session:
        for check in session.scalars(select(EligibilityCheck)):
            check.asked_at -= timedelta(minutes=2)
        session.commit()
    late = clients["surveys"].get(f"/surveys/{survey_id}/launch")
    assert "Refresh" not in late.headers
    assert "Panel has not answered yet, so this page has stopped updating itself" in text(late)
    assert "Check again" in text(late)
    assert questions_sent(apps, "panel.count_eligible") == 1  # not asked again yet
    pump()  # the worker is back: the answer arrives all the same
    assert "Ward: Old Town 3 3 None" in text(clients["surveys"].get(
        f"/surveys/{survey_id}/launch"))
