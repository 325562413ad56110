"""A panel manager finds a member in the console, reads their record in words, downloads what
is held on them and erases them after a confirmation that says what goes where."""

from __future__ import annotations

import json

from services.panel.targets import import_targets
from shared.db import new_session
from shared.service import bus
from tests.panel.factories import keep_draw_in_panel, make_members, run_draw
from tests.panel.test_joining import _deliver
from tests.scenario import bearer, setup_agencies
from tests.staff import add_staff, sign_in

WARDS = "vintage,area,area_name,dimension,category,population\n" \
        "census-2021,E05001001,Riverside Central,age_band,25-34,500\n"


def named_wards(apps) -> None:
    with apps["panel"].app_context(), new_session() as session:
        import_targets(session, bus(), body=WARDS)


def manager_signed_in(apps, clients, pump, role="panel_manager"):
    keys = setup_agencies(apps, pump)
    add_staff(apps, email=f"{role}@council.example", agency="council", role=role)
    sign_in(apps, clients, f"{role}@council.example")
    return keys


def page(clients, path, status=200) -> str:
    answer = clients["panel"].get(path)
    assert answer.status_code == status, answer.data.decode()[:2000]
    return answer.data.decode()


def test_a_panel_manager_finds_a_member_and_reads_their_record_in_words(apps, clients, pump):
    keys = manager_signed_in(apps, clients, pump)
    named_wards(apps)
    ref = make_members(apps["panel"], 3)[1]
    make_members(apps["panel"], 1, start=7, channel="sms", age_band="75+")
    run_draw(apps["panel"], survey_id=4, size=4, sponsors=["health", "police"])
    keep_draw_in_panel(apps["panel"])
    manager = bearer(keys["council"]["panel_manager"])
    clients["panel"].post(f"/api/v1/members/{ref}/agency-opt-outs", headers=manager,
                          json={"agency": "college"})
    clients["panel"].patch(f"/api/v1/members/{ref}/consent", headers=manager,
                           json={"outcomes": False})
    _deliver(apps, "invitation", ref)
    pump()

    found = page(clients, "/panel/members?q=m1@example")
    assert "1 member found" in found and "m1@example.org" in found
    assert "Riverside Central" in found and "E05001001" not in found
    assert "+447700900007" in page(clients, "/panel/members?q=07700+900007")
    assert f"/panel/members/{ref}" in page(clients, f"/panel/members?q={ref}")
    assert "0 members found" in page(clients, "/panel/members?q=nobody@nowhere")

    record = page(clients, f"/panel/members/{ref}")
    assert "m1@example.org" in record and "Riverside Central" in record
    assert "25 to 34" in record and "Not disabled" in record and "E05001001" not in record
    consent = record.split('id="consent"')[1].split("</table>")[0]
    assert "Survey invitations" in consent and "Hearing what was decided" in consent
    assert consent.count("Not given") == 2  # outcomes withdrawn, recontact never given
    assert "Nothing from Riverside College" in record
    assert "1 of 3 invitations in the last 90 days" in record and "Next free to invite" in record
    messages = record.split('id="messages"')[1].split("</table>")[0]
    assert "Survey invitation" in messages and "Email" in messages


def test_the_subject_access_export_downloads_as_json(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    ref = make_members(apps["panel"], 1)[0]
    answer = clients["panel"].get(f"/panel/members/{ref}/export")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == \
        f'attachment; filename="subject-access-{ref}.json"'
    held = json.loads(answer.data)
    assert held["member"]["email"] == "m0@example.org" and held["consent"]["surveys"] is True


def test_erasure_says_what_goes_where_and_erases_everywhere(apps, clients, pump):
    keys = manager_signed_in(apps, clients, pump)
    ref = make_members(apps["panel"], 1)[0]
    confirm = page(clients, f"/panel/members/{ref}/erase")
    effects = confirm.split('id="effects"')[1].split("</dl>")[0]
    for where in ("Panel", "Surveys", "Feedback"):
        assert f">{where}</dt>" in effects
    assert "Email address, phone number" in effects and "cannot be undone" in confirm
    assert page(clients, f"/panel/members/{ref}") and \
        "m0@example.org" in page(clients, "/panel/members?q=m0@")

    answer = clients["panel"].post(f"/panel/members/{ref}/erase")
    assert answer.status_code == 303
    assert "The member was erased" in page(clients, answer.headers["Location"])
    assert "0 members found" in page(clients, "/panel/members?q=m0@")
    page(clients, f"/panel/members/{ref}", status=404)
    api = clients["panel"].get(f"/api/v1/members/{ref}",
                               headers=bearer(keys["council"]["panel_manager"]))
    assert api.status_code == 404


def test_members_pages_are_for_panel_managers_only(apps, clients, pump):
    manager_signed_in(apps, clients, pump, role="officer")
    ref = make_members(apps["panel"], 1)[0]
    for path in ("/panel/members?q=m0", f"/panel/members/{ref}",
                 f"/panel/members/{ref}/export", f"/panel/members/{ref}/erase"):
        assert "m0@example.org" not in page(clients, path, status=403)
    assert clients["panel"].post(f"/panel/members/{ref}/erase").status_code == 403
    add_staff(apps, email="admin@council.example", agency="council", role="admin")
    sign_in(apps, clients, "admin@council.example")
    page(clients, f"/panel/members/{ref}", status=403)  # personal data: the API's rule
