"""The admin's console pages: agencies, the agency's users (invited by email, re-roled,
disabled everywhere at once), its API keys (shown once, revoked) and the audit log, which
panel's and feedback's staff actions reach over the bus."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from services.surveys.audit import record_staff_action
from services.surveys.models import ApiKey, AuditLog, StaffUser
from services.surveys.staff_users import (
    SignInLinkUnusable,
    SignInSettings,
    redeem_sign_in_link,
    start_session,
)
from shared.audit import Actor
from shared.db import new_session
from shared.staff import COOKIE_NAME
from tests.feedback.closing import close_survey, complete_and_publish, only_report
from tests.panel.factories import make_members
from tests.scenario import bearer, setup_agencies
from tests.staff import SIGN_IN_LINK, add_staff, link_for, sign_in

ADMIN = "ada.admin@council.example"
HOMES = {"panel": "/panel", "surveys": "/surveys", "feedback": "/reports"}


@pytest.fixture
def keys(apps, pump):
    found = setup_agencies(apps, pump)
    add_staff(apps, email=ADMIN, agency="council", role="admin", name="Ada Admin")
    return found


@pytest.fixture
def admin(apps, clients, keys):
    """The council's admin, signed in to all three services' clients."""
    sign_in(apps, clients, ADMIN)
    return clients["surveys"]


def visit(client, method: str, path: str, **kwargs):
    """GET a page, or POST to it as its form would (with its CSRF token)."""
    return client.post(path, **kwargs) if method == "POST" else client.get(path, **kwargs)


def other_browser(apps) -> dict:
    return {name: app.test_client() for name, app in apps.items()}


def audit_rows(apps, **where) -> list[AuditLog]:
    with apps["surveys"].app_context(), new_session() as session:
        return list(session.scalars(select(AuditLog).filter_by(**where).order_by(AuditLog.id)))


def user_id(apps, email: str) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def text(answer) -> str:
    """The page's HTML as one line, without the line-break hints put in email addresses."""
    return re.sub(r"\s+", " ", answer.get_data(as_text=True)).replace("<wbr>", "")


# -- pages and who may see them ----------------------------------------------------------


def test_the_hub_links_every_section_and_agencies_are_listed_by_name(admin):
    hub = text(admin.get("/admin"))
    for section in ("/admin/users", "/admin/keys", "/admin/audit", "/admin/agencies"):
        assert f'href="{section}"' in hub
    agencies = text(admin.get("/admin/agencies"))
    assert "Riverside Council (your agency)" in agencies and "Riverside Police" in agencies
    assert ">police<" not in agencies


def admin_pages(app) -> list[tuple[str, str]]:
    """Every admin page's method and address, with made-up ids."""
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and rule.endpoint != "admin.static":
            path = rule.rule.replace("<int:user_id>", "1").replace("<key_prefix>", "cp_abcdef")
            pages += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return pages


def test_every_admin_page_refuses_other_roles_and_sends_strangers_to_sign_in(apps, clients,
                                                                              keys):
    pages = admin_pages(apps["surveys"])
    assert len(pages) >= 15
    stranger = apps["surveys"].test_client()
    for method, path in pages:
        answer = visit(stranger, method, path)
        assert answer.status_code in (302, 303) and "/sign-in" in answer.headers["Location"]
    for role in ("officer", "analyst", "panel_manager", "decision_owner"):
        email = f"{role}@council.example"
        add_staff(apps, email=email, agency="council", role=role)
        browser = other_browser(apps)
        sign_in(apps, browser, email)
        refused = [(method, path, visit(browser["surveys"], method, path).status_code)
                   for method, path in pages]
        assert {status for _, _, status in refused} == {403}, refused
        assert "/admin" not in text(browser["surveys"].get("/surveys"))  # no Admin in the menu


# -- users ---------------------------------------------------------------------------------


def test_an_invited_user_gets_a_link_by_email_and_signs_in_with_it(apps, admin, pump,
                                                                   smtp_server):
    form = text(admin.get("/admin/users/invite"))
    assert 'name="csrf_token"' in form and "Panel manager" in form
    sent = admin.post("/admin/users/invite", data={
        "name": "Olu Officer", "email": "Olu.Officer@Council.example", "role": "officer"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/admin/users"
    listed = text(admin.get("/admin/users"))
    assert "We have emailed olu.officer@council.example a link to sign in." in listed
    assert "Olu Officer" in listed and "Officer" in listed and "Never" in listed

    pump()
    [mail] = [m for m in smtp_server.messages if m["To"] == "olu.officer@council.example"]
    body = mail.get_payload(decode=True).decode()
    assert f"{ADMIN} has given you an account" in body
    browser = other_browser(apps)
    signed_in = browser["surveys"].post(SIGN_IN_LINK.search(body).group(1))
    assert signed_in.status_code == 303
    assert "Olu Officer, Riverside Council" in text(browser["surveys"].get("/surveys"))
    assert "Active" in text(admin.get("/admin/users"))
    [invited] = audit_rows(apps, action="user_invited")
    assert (invited.actor, invited.agency, invited.detail["email"]) == (
        ADMIN, "council", "olu.officer@council.example")


def test_an_invitation_names_the_field_at_fault(apps, admin):
    for data, field, reason in (
            ({"name": "", "email": "x@council.example", "role": "officer"}, "name",
             "Enter their full name"),
            ({"name": "X", "email": "not an email", "role": "officer"}, "email",
             "in the right format"),
            ({"name": "X", "email": "x@council.example", "role": "mayor"}, "role",
             "Not a valid choice"),
            ({"name": "Ada again", "email": ADMIN.upper(), "role": "officer"}, "email",
             "already exists")):
        answer = admin.post("/admin/users/invite", data=data)
        page = text(answer)
        assert answer.status_code == 400, data
        assert "<title>Error:" in page and f'href="#{field}"' in page and reason in page, data
    assert audit_rows(apps, action="user_invited") == []


FORGED = {"name": "Helper", "email": "helper@elsewhere.example", "role": "admin"}


@pytest.mark.parametrize("headers", [{"Origin": "https://elsewhere.example"},
                                     {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {}],
                         ids=["other origin", "opaque origin", "cross-site", "no origin"])
def test_a_form_forged_on_another_site_is_refused_and_never_offered_back_to_send(
        apps, admin, headers):
    """A page elsewhere posting the invite form (the browser sends no cookie with it): were its
    fields offered back with a fresh token, the admin's one click on "Send again" would invite
    the forger's address as an admin of the council."""
    forged = Client(apps["surveys"]).post("/admin/users/invite", data=FORGED, headers=headers)
    page = text(forged)
    assert forged.status_code == 400 and "Your form could not be sent" in page
    assert "Send again" not in page and "<form" not in page and FORGED["email"] not in page
    assert user_id(apps, FORGED["email"]) is None


def test_a_form_of_ours_whose_token_has_gone_is_offered_back_and_goes_once_sent_again(
        apps, admin):
    data = {"name": "Cy", "email": "cy@council.example", "role": "officer",
            "csrf_token": "a token from before a restart"}
    stale = admin.post("/admin/users/invite", data=data,
                       headers={"Origin": apps["surveys"].config["SURVEYS_URL"]})
    page = text(stale)
    assert stale.status_code == 400 and "Send again" in page
    assert 'action="/admin/users/invite"' in page
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert {name: kept[name] for name in ("name", "email", "role")} == {
        "name": "Cy", "email": "cy@council.example", "role": "officer"}
    assert kept["csrf_token"] != data["csrf_token"]
    sent = admin.post("/admin/users/invite", data=kept)
    assert sent.status_code == 303 and user_id(apps, "cy@council.example") is not None


def test_disabling_a_signed_in_user_signs_them_out_of_every_service_at_once(apps, admin):
    add_staff(apps, email="bo@council.example", agency="council", role="admin", name="Bo")
    bo = other_browser(apps)
    sign_in(apps, bo, "bo@council.example")
    for name, path in HOMES.items():
        assert bo[name].get(path).status_code == 200, name
    bo_id = user_id(apps, "bo@council.example")

    confirm = text(admin.get(f"/admin/users/{bo_id}/disable"))
    assert "Are you sure you want to disable Bo?" in confirm
    done = admin.post(f"/admin/users/{bo_id}/disable")
    assert done.status_code == 303
    page = text(admin.get(done.headers["Location"]))
    assert "Bo is disabled and has been signed out everywhere." in page and "Disabled on" in page
    for name, path in HOMES.items():
        answer = bo[name].get(path)
        assert answer.status_code == 302, name
        assert answer.headers["Location"].startswith("http://surveys.test/sign-in"), name
    # ... nor can they sign in again, until re-enabled.
    assert bo["surveys"].post(link_for_any(apps, "bo@council.example")).status_code == 400
    assert admin.post(f"/admin/users/{bo_id}/enable").status_code == 303
    sign_in(apps, bo, "bo@council.example")
    assert bo["panel"].get("/panel").status_code == 200
    assert [r.action for r in audit_rows(apps, actor=ADMIN) if r.action != "sign_in"] == [
        "user_disabled", "user_enabled"]


def link_for_any(apps, email: str) -> str:
    """A sign-in link for a user whether or not they are active (as one sent before)."""
    from services.surveys.staff_users import sign_in_link

    with apps["surveys"].app_context(), new_session() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        url = sign_in_link(user, SignInSettings.from_config(apps["surveys"].config))
    return url.split("surveys.test", 1)[1]


def test_a_sign_in_under_way_when_its_user_is_disabled_starts_no_session(apps, admin):
    """A link redeemed just before the admin disables its user: the session is refused when
    it would start (the user's row is read again, locked), so no session outlives the
    disabling even though ending sessions ran before it existed."""
    add_staff(apps, email="cy@council.example", agency="council", role="officer")
    token = link_for(apps, "cy@council.example").split("/sign-in/")[1]
    app = apps["surveys"]
    sessions = app.extensions["staff_sessions"]
    with app.test_request_context(), new_session() as session:
        user = redeem_sign_in_link(session, app.extensions["redis"],
                                   SignInSettings.from_config(app.config), token)
        assert admin.post(f"/admin/users/{user.id}/disable").status_code == 303
        with pytest.raises(SignInLinkUnusable):
            start_session(session, sessions, user, how="email link")
    assert sessions.end_all(user.id) == 0


def test_a_changed_role_takes_effect_at_the_next_sign_in(apps, admin):
    add_staff(apps, email="di@council.example", agency="council", role="officer", name="Di")
    di = other_browser(apps)
    sign_in(apps, di, "di@council.example")
    assert di["feedback"].get("/reports").status_code == 200
    di_id = user_id(apps, "di@council.example")
    form = text(admin.get(f"/admin/users/{di_id}/role"))
    assert 'value="officer" checked' in form
    assert admin.post(f"/admin/users/{di_id}/role", data={"role": "analyst"}).status_code == 303
    assert "Di is now analyst." in text(admin.get(f"/admin/users/{di_id}"))
    assert di["surveys"].get("/surveys").status_code == 302  # signed out
    sign_in(apps, di, "di@council.example")
    assert di["feedback"].get("/reports").status_code == 403  # analysts have no reports pages
    [changed] = audit_rows(apps, action="role_changed")
    assert (changed.detail["from"], changed.detail["to"]) == ("officer", "analyst")


def test_an_admin_cannot_disable_or_re_role_themself_nor_touch_another_agencys_users(
        apps, admin):
    own = user_id(apps, ADMIN)
    page = text(admin.get(f"/admin/users/{own}"))
    assert "This is your own account" in page and "/disable" not in page
    assert admin.post(f"/admin/users/{own}/disable").status_code == 409
    assert admin.post(f"/admin/users/{own}/role", data={"role": "analyst"}).status_code == 409
    add_staff(apps, email="eve@police.example", agency="police", role="officer")
    theirs = user_id(apps, "eve@police.example")
    assert "eve@police.example" not in text(admin.get("/admin/users"))
    for method, path in (("GET", f"/admin/users/{theirs}"),
                         ("POST", f"/admin/users/{theirs}/disable")):
        assert visit(admin, method, path).status_code == 404
    with apps["surveys"].app_context(), new_session() as session:
        assert session.get(StaffUser, theirs).active and session.get(StaffUser, own).active


def test_the_command_line_invites_and_disables_through_the_same_use_cases(apps, keys, pump,
                                                                         smtp_server):
    runner = apps["surveys"].test_cli_runner()
    invited = runner.invoke(args=["users", "invite", "fi@police.example", "--name", "Fi",
                                  "--agency", "police", "--role", "analyst"])
    assert invited.exit_code == 0, invited.output
    pump()
    assert [m["To"] for m in smtp_server.messages] == ["fi@police.example"]
    assert runner.invoke(args=["users", "role", "fi@police.example", "officer"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", "fi@police.example"]).exit_code == 0
    assert [(r.action, r.agency, r.actor) for r in audit_rows(apps)] == [
        ("user_invited", "police", "command line"), ("role_changed", "police", "command line"),
        ("user_disabled", "police", "command line")]


# -- API keys ------------------------------------------------------------------------------


def test_an_issued_key_is_shown_once_works_against_the_api_and_once_revoked_is_refused(
        apps, admin, clients, pump):
    form = text(admin.get("/admin/keys/issue"))
    assert "The key’s role" in form
    issued = admin.post("/admin/keys/issue", data={"role": "analyst", "label": "Warehouse"})
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="api-key">(cp_[A-Za-z0-9_\-]+)<', issued.get_data(as_text=True)).group(1)
    listed = text(admin.get("/admin/keys"))
    assert key[:9] in listed and key not in listed and "Warehouse" in listed

    pump()  # replicated to panel and feedback
    assert clients["surveys"].get("/api/v1/surveys", headers=bearer(key)).status_code == 200
    assert clients["feedback"].get("/api/v1/reports", headers=bearer(key)).status_code in (
        200, 403)
    confirm = text(admin.get(f"/admin/keys/{key[:9]}/revoke"))
    assert f"Are you sure you want to revoke the key {key[:9]}?" in confirm
    revoked = admin.post(f"/admin/keys/{key[:9]}/revoke")
    assert revoked.status_code == 303
    assert "no longer works" in text(admin.get(revoked.headers["Location"]))
    pump()
    for name, path in (("surveys", "/api/v1/surveys"), ("feedback", "/api/v1/reports")):
        assert clients[name].get(path, headers=bearer(key)).status_code == 401, name
    assert admin.get(f"/admin/keys/{key[:9]}/revoke").status_code == 404  # gone from live keys
    assert [(r.action, r.actor, r.detail["key_prefix"]) for r in audit_rows(
        apps, agency="council") if r.action.startswith("key_")] == [
        ("key_issued", ADMIN, key[:9]), ("key_revoked", ADMIN, key[:9])]


def test_keys_issued_through_the_api_are_logged_under_the_issuing_keys_prefix(apps, admin,
                                                                              keys, clients):
    admin_key = keys["council"]["admin"]
    made = clients["surveys"].post("/api/v1/keys", headers=bearer(admin_key),
                                   json={"role": "officer"})
    assert made.status_code == 201
    [row] = audit_rows(apps, action="key_issued")
    assert (row.actor, row.key_prefix, row.role) == (admin_key[:9], admin_key[:9], "admin")
    assert admin_key[:9] in text(admin.get("/admin/audit?action=key_issued"))
    # Another agency's key cannot be revoked from this agency's page.
    police = keys["police"]["officer"][:9]
    assert admin.post(f"/admin/keys/{police}/revoke").status_code == 404


def test_only_the_agencies_that_look_after_the_panel_may_have_panel_managers(
        apps, admin, keys, clients, monkeypatch):
    """A panel manager reads every member's contact details: another agency's admin cannot
    make anyone one, in the console, the API or at the command line."""
    monkeypatch.setitem(apps["surveys"].config, "PANEL_AGENCIES", frozenset({"police"}))
    for path in ("/admin/users/invite", "/admin/keys/issue"):
        form = text(admin.get(path))
        assert "Looks after the panel" not in form and "Reads results and writes" in form
    refused = admin.post("/admin/users/invite", data={
        "name": "Mo", "email": "mo@council.example", "role": "panel_manager"})
    assert refused.status_code == 400 and 'href="#role"' in text(refused)
    assert admin.post("/admin/keys/issue", data={"role": "panel_manager"}).status_code == 400
    add_staff(apps, email="bo@council.example", agency="council", role="officer")
    bo = user_id(apps, "bo@council.example")
    assert admin.post(f"/admin/users/{bo}/role", data={"role": "panel_manager"}).status_code == 400
    by_api = clients["surveys"].post("/api/v1/keys", headers=bearer(keys["council"]["admin"]),
                                     json={"role": "panel_manager"})
    assert by_api.status_code == 422 and "look after the shared panel" in str(by_api.json)
    by_command = apps["surveys"].test_cli_runner().invoke(args=[
        "users", "invite", "mo@council.example", "--name", "Mo", "--agency", "council",
        "--role", "panel_manager"])
    assert by_command.exit_code != 0 and "look after the shared panel" in by_command.output
    assert user_id(apps, "mo@council.example") is None
    assert [r.action for r in audit_rows(apps) if r.action in ("user_invited", "key_issued")] == []
    # The police look after the panel: their admin may.
    police = clients["surveys"].post("/api/v1/keys", headers=bearer(keys["police"]["admin"]),
                                     json={"role": "panel_manager"})
    assert police.status_code == 201


def test_revoking_a_key_leaves_another_agencys_key_with_the_same_prefix_alone(apps, admin):
    # Prefixes are short: two agencies' keys may share one.
    with apps["surveys"].app_context(), new_session() as session:
        session.add_all([ApiKey(key_hash=f"hash-{agency}", key_prefix="cp_shared", agency=agency,
                                role="officer") for agency in ("council", "police")])
        session.commit()
    assert admin.post("/admin/keys/cp_shared/revoke").status_code == 303
    with apps["surveys"].app_context(), new_session() as session:
        live = dict(session.execute(select(ApiKey.agency, ApiKey.revoked_at).where(
            ApiKey.key_prefix == "cp_shared")).all())
    assert live["council"] is not None and live["police"] is None
    assert [r.agency for r in audit_rows(apps, action="key_revoked")] == ["council"]


# -- the audit log -------------------------------------------------------------------------


def test_the_audit_log_filters_by_action_actor_and_dates_and_shows_own_agency_only(
        apps, admin, keys):
    admin.post("/admin/keys/issue", data={"role": "officer"})
    admin.post("/admin/keys/issue", data={"role": "analyst"})
    with apps["surveys"].app_context(), new_session() as session:
        long_ago = datetime(2025, 1, 15, 12, tzinfo=UTC)
        record_staff_action(session, Actor("council", "officer", "old@council.example"),
                            "launch", survey_ids=[4], at=long_ago)
        record_staff_action(session, Actor("police", "admin", "pol@police.example"),
                            "key_issued")
        session.commit()
    everything = text(admin.get("/admin/audit"))
    assert "4 actions, newest first" in everything  # sign-in, two keys, the launch
    assert "pol@police.example" not in everything and "Riverside Council" in everything

    only_keys = text(admin.get("/admin/audit?action=key_issued"))
    assert "2 actions" in only_keys and only_keys.count("Issued an API key") >= 2
    assert "Signed in" not in only_keys.split("</select>")[1]
    by_actor = text(admin.get("/admin/audit?actor=OLD@"))
    assert "1 action," in by_actor and "Launched a survey" in by_actor and "Survey 4" in by_actor
    wrong = text(admin.get("/admin/audit?since=2&since=2&since=2025&until=1&until=1&until=2025"))
    assert 'href="#until"' in wrong and 'id="until"' in wrong  # the link lands on the day box
    january = text(admin.get("/admin/audit?since=1&since=1&since=2025&until=31&until=1"
                             "&until=2025"))
    assert "1 action," in january and "old@council.example" in january
    backwards = admin.get("/admin/audit?since=2&since=2&since=2025&until=1&until=1&until=2025")
    assert backwards.status_code == 400
    assert "The end date must be the same as or after the start date" in text(backwards)
    calendars_end = admin.get("/admin/audit?until=31&until=12&until=9999")
    assert calendars_end.status_code == 400
    assert 'href="#until"' in text(calendars_end)
    assert "Enter a year from 2000 to 2100" in text(calendars_end)


def test_the_audit_log_pages_through_many_actions_keeping_the_filter(apps, admin):
    with apps["surveys"].app_context(), new_session() as session:
        start = datetime(2026, 3, 1, tzinfo=UTC)
        for minute in range(120):
            record_staff_action(session, Actor("council", "officer", "busy@council.example"),
                                "close", at=start + timedelta(minutes=minute))
        session.commit()
    first = text(admin.get("/admin/audit?action=close"))
    assert "120 actions, newest first (page 1 of 3)" in first
    assert "/admin/audit?action=close&amp;page=2" in first
    last = text(admin.get("/admin/audit?action=close&page=3"))
    assert "(page 3 of 3)" in last and "1 Mar 2026, 00:00" in last


def test_erasures_in_panel_and_publishing_in_feedback_reach_the_audit_log_over_the_bus(
        apps, admin, keys, clients, pump):
    officer = keys["council"]["officer"]
    close_survey(pump, sponsors=("council",))
    report = only_report(clients["feedback"], officer)
    manager = keys["council"]["panel_manager"]
    [ref] = make_members(apps["panel"], 1)
    erased = clients["panel"].delete(f"/api/v1/members/{ref}", headers=bearer(manager))
    assert erased.status_code == 204
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200
    assert audit_rows(apps, service="panel") == []  # not until the bus brings them
    pump()
    [erasure] = audit_rows(apps, service="panel")
    assert (erasure.action, erasure.actor, erasure.role, erasure.agency) == (
        "member_erased", manager[:9], "panel_manager", "council")
    assert ref not in str(erasure.detail)
    [published] = audit_rows(apps, service="feedback")
    assert (published.action, published.actor, published.survey_ids) == (
        "report_published", officer[:9], [7])
    page = text(admin.get("/admin/audit"))
    assert "Erased a panel member" in page and "In panel" in page
    assert "Published a report" in page and "Library opening hours" in page
    assert "1 action," in text(admin.get("/admin/audit?action=member_erased"))


def test_a_session_cookie_of_a_disabled_user_no_longer_signs_anyone_in(apps, admin):
    """The cookie itself is dead, not just the browser's copy: replaying it is refused."""
    add_staff(apps, email="gus@council.example", agency="council", role="officer")
    gus = other_browser(apps)
    cookie = sign_in(apps, gus, "gus@council.example")
    admin.post(f"/admin/users/{user_id(apps, 'gus@council.example')}/disable")
    replay = apps["feedback"].test_client()
    replay.set_cookie(COOKIE_NAME, cookie)
    assert replay.get("/reports").status_code == 302
