"""On a member's page a panel manager changes consent and records an agency opt-out, each
by a form with the API's rules that says back what it did; and adds a member by hand."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from tests.panel.factories import make_members
from tests.panel.test_console_members import manager_signed_in, named_wards, page
from tests.scenario import bearer
from tests.staff import add_staff, sign_in

PERSON = {"preferred_channel": "email", "email": "Ada@Example.org", "language": "cy",
          "age_band": "65-74", "gender": "female", "ethnicity": "black",
          "disability": "disabled", "area": "E05001001", "tenure": "social_rented",
          "consent": ["surveys", "outcomes"]}


def post(clients, path: str, fields: dict):
    form = MultiDict()  # the client adds the form's CSRF token
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.add(name, one)
    return clients["panel"].post(path, data=form)


def banner(html: str) -> str:
    return re.search(r'notification-banner__heading">([^<]+)<', html).group(1)


def test_consent_is_changed_with_how_the_member_said_so(apps, clients, pump):
    keys = manager_signed_in(apps, clients, pump)
    ref = make_members(apps["panel"], 1)[0]
    record = page(clients, f"/panel/members/{ref}")
    assert f'href="/panel/members/{ref}/consent">Change consent' in record
    form = page(clients, f"/panel/members/{ref}/consent")
    assert 'name="csrf_token"' in form
    assert re.search(r'name="surveys" type="radio" value="yes" checked', form)
    assert re.search(r'name="recontact" type="radio" value="no" checked', form)

    refused = post(clients, f"/panel/members/{ref}/consent",
                   {"surveys": "no", "outcomes": "yes", "recontact": "no"})
    assert refused.status_code == 400
    assert '<a href="#how">Select how they told you.</a>' in refused.data.decode()
    assert re.search(r'name="surveys" type="radio" value="no" checked', refused.data.decode())

    done = post(clients, f"/panel/members/{ref}/consent",
                {"surveys": "no", "outcomes": "yes", "recontact": "yes", "how": "phone"})
    assert done.status_code == 303
    shown = page(clients, done.headers["Location"])
    assert banner(shown) == "Consent changed: Survey invitations: not given; Being asked " \
                            "again about the same topic: given."
    consent = shown.split('id="consent"')[1].split("</table>")[0]
    assert consent.count("Not given") == 1 and "by phone, in the console, council" in consent
    api = clients["panel"].get(f"/api/v1/members/{ref}",
                               headers=bearer(keys["council"]["panel_manager"])).json
    assert api["consent"] == {"surveys": False, "outcomes": True, "recontact": True}
    again = post(clients, f"/panel/members/{ref}/consent",
                 {"surveys": "no", "outcomes": "yes", "recontact": "yes", "how": "letter"})
    assert banner(page(clients, again.headers["Location"])) == \
        "Nothing changed: their consent was already as you said."


def test_an_agency_opt_out_is_recorded_from_the_member_page(apps, clients, pump):
    keys = manager_signed_in(apps, clients, pump)
    ref = make_members(apps["panel"], 1)[0]
    form = page(clients, f"/panel/members/{ref}/agency-opt-outs")
    agencies = re.findall(r'name="agency" type="radio" value="(\w+)"', form)
    assert agencies[0] == "council" and {"police", "health"} <= set(agencies)
    assert "Riverside Council (your agency)" in form and "Riverside Police" in form
    refused = post(clients, f"/panel/members/{ref}/agency-opt-outs", {"agency": "nobody"})
    assert refused.status_code == 400 and \
        '<a href="#agency">Select the agency they want nothing more from.</a>' in \
        refused.data.decode()
    done = post(clients, f"/panel/members/{ref}/agency-opt-outs", {"agency": "police"})
    assert done.status_code == 303
    shown = page(clients, done.headers["Location"])
    # The agency by the name surveys announced, not its code, though none of its surveys closed.
    assert banner(shown) == "Opt-out recorded: Riverside Police will invite them to nothing more."
    assert "Nothing from Riverside Police" in shown and "Nothing from police" not in shown
    assert 'value="police"' not in page(clients, f"/panel/members/{ref}/agency-opt-outs")
    manager = bearer(keys["council"]["panel_manager"])
    export = clients["panel"].get(f"/api/v1/members/{ref}/export", headers=manager).json
    assert [o["agency"] for o in export["agency_opt_outs"]] == ["police"]


def test_a_member_is_added_by_hand_with_the_apis_rules(apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    named_wards(apps)
    assert 'href="/panel/members/new">Add a member' in page(clients, "/panel/members")
    form = page(clients, "/panel/members/new")
    assert "Riverside Central" in form and "65 to 74" in form and 'name="csrf_token"' in form

    refused = post(clients, "/panel/members/new", {"preferred_channel": "sms",
                                                   "email": "not an email", "gender": "male"})
    assert refused.status_code == 400
    summary = re.findall(r'<li><a href="#([\w-]+)">([^<]+)</a>', refused.data.decode())
    assert [field for field, _ in summary] == ["email", "age_band", "ethnicity",
                                               "disability", "area"]
    assert ("email", "Enter an email address in the correct format, like name@example.com.") \
        in summary and ("age_band", "Select their age group.") in summary

    added = post(clients, "/panel/members/new", PERSON)
    assert added.status_code == 303
    shown = page(clients, added.headers["Location"])
    assert banner(shown) == "The member is added to the panel."
    assert "ada@example.org" in shown and "Cymraeg" in shown and "65 to 74" in shown
    assert "Riverside Central" in shown and "Social rented" in shown
    consent = shown.split('id="consent"')[1].split("</table>")[0]
    assert consent.count("Not given") == 1 and "(added in the console)" in consent

    twice = post(clients, "/panel/members/new", PERSON)
    assert twice.status_code == 409
    assert '<a href="#email">Email address: a member with this email is already on the panel' \
        in twice.data.decode()


def test_only_panel_managers_change_members(apps, clients, pump):
    manager_signed_in(apps, clients, pump, role="admin")
    ref = make_members(apps["panel"], 1)[0]
    for path in (f"/panel/members/{ref}/consent", f"/panel/members/{ref}/agency-opt-outs",
                 "/panel/members/new"):
        page(clients, path, status=403)
        assert post(clients, path, {"surveys": "no", "how": "phone", "agency": "council",
                                    **PERSON}).status_code == 403
    missing = "00000000-0000-4000-8000-000000000000"
    add_staff(apps, email="pm@council.example", agency="council", role="panel_manager")
    sign_in(apps, clients, "pm@council.example")
    page(clients, f"/panel/members/{missing}/consent", status=404)
    assert post(clients, f"/panel/members/{missing}/agency-opt-outs",
                {"agency": "council"}).status_code == 404


def test_an_agency_added_in_surveys_is_named_on_panels_pages_before_any_survey(
        apps, clients, pump):
    manager_signed_in(apps, clients, pump)
    ref = make_members(apps["panel"], 1)[0]
    added = apps["surveys"].test_cli_runner().invoke(
        args=["agencies", "create", "housing", "--name", "Riverside Homes"])
    assert added.exit_code == 0, added.output
    pump()
    form = page(clients, f"/panel/members/{ref}/agency-opt-outs")
    assert 'value="housing"' in form and "Riverside Homes" in form
    done = post(clients, f"/panel/members/{ref}/agency-opt-outs", {"agency": "housing"})
    assert "Nothing from Riverside Homes" in page(clients, done.headers["Location"])
