"""Joining by the web page or by SMS, with double opt-in, and unsubscribing from everything."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import Client

from services.panel.erasure import erase_member
from services.panel.models import Delivery, Member
from shared.bus import utcnow
from shared.db import new_session
from tests.panel.factories import make_members, member, run_draw

CONFIRM = re.compile(r"http://panel\.test(/join/confirm/[A-Za-z0-9_.-]+)")
FORM = {"preferred_channel": "email", "email": "new.member@example.org", "age_band": "16-24",
        "gender": "male", "ethnicity": "black", "disability": "not_disabled",
        "area": "E05001004", "consent_surveys": "yes", "consent_outcomes": "yes"}


def confirm_links(apps) -> list[str]:
    with apps["panel"].app_context(), new_session() as session:
        bodies = session.scalars(select(Delivery.body).where(Delivery.template == "confirm_join"))
        return [CONFIRM.search(b).group(1) for b in bodies]


def _only_member(app) -> Member:
    with app.app_context(), new_session() as session:
        return session.scalars(select(Member)).one()


def test_join_page_signs_up_and_the_email_link_confirms(apps, clients, pump, smtp_server):
    page = clients["panel"].get("/join")
    assert page.status_code == 200 and b"Join the citizens' panel" in page.data
    response = clients["panel"].post("/join", data=FORM)
    assert response.status_code == 303 and "/join/check" in response.headers["Location"]
    assert _only_member(apps["panel"]).status == "pending"
    pump()
    mail = [m for m in smtp_server.messages if m["To"] == "new.member@example.org"]
    assert len(mail) == 1 and "Confirm" in mail[0]["Subject"]
    link = CONFIRM.search(mail[0].get_content()).group(1)
    # Opening the link (or a mail scanner fetching it) does not confirm; pressing the button does.
    assert b"Confirm and join" in clients["panel"].get(link).data
    assert _only_member(apps["panel"]).status == "pending"
    assert b"You are on the panel" in clients["panel"].post(link).data
    joined = _only_member(apps["panel"])
    assert joined.status == "active" and joined.confirmed_at is not None


def test_unconfirmed_sign_up_is_never_drawn(apps, clients, pump):
    clients["panel"].post("/join", data=FORM)
    assert run_draw(apps["panel"], size=1)["members"] == []


def test_join_page_shows_each_problem_against_its_field(clients):
    response = clients["panel"].post("/join", data={"preferred_channel": "sms", "phone": "12"})
    assert response.status_code == 400
    page = response.data.decode()
    assert "There is a problem" in page and "<title>Error:" in page
    for anchor in ("#phone", "#age_band", "#gender", "#ethnicity", "#disability", "#area",
                   "#consent_surveys"):
        assert f'href="{anchor}"' in page
    assert "Enter a UK mobile number" in page


def test_an_answer_sent_twice_is_asked_again_not_chosen_for_the_person(apps, clients):
    twice = MultiDict(FORM)
    twice.add("email", "someone.else@example.org")
    response = clients["panel"].post("/join", data=twice)
    assert response.status_code == 400
    page = response.data.decode()
    assert 'href="#email"' in page and "Give one answer to this question." in page
    assert _members(apps["panel"]) == 0


def _members(app) -> int:
    with app.app_context(), new_session() as session:
        return len(session.scalars(select(Member)).all())


def test_joining_with_a_known_email_looks_like_a_new_sign_up_and_tells_the_owner(
        apps, clients, pump, smtp_server):
    make_members(apps["panel"], 1)  # m0@example.org
    new = clients["panel"].post("/join", data=FORM)
    known = clients["panel"].post("/join", data={**FORM, "email": "M0@example.org"})
    # A stranger typing someone's address learns nothing: the same answer as a new sign-up.
    assert (known.status_code, known.headers["Location"]) == (
        new.status_code, new.headers["Location"]) == (303, "/join/check?by=email")
    assert b"already on the panel" not in known.data
    clients["panel"].post("/join", data={**FORM, "email": "m0@example.org"})  # and again
    pump()
    assert _members(apps["panel"]) == 2
    to_owner = [m for m in smtp_server.messages if m["To"] == "m0@example.org"]
    assert len(to_owner) == 1  # at most one such notice a day
    assert "tried to join" in to_owner[0]["Subject"]
    assert "You are already on the panel" in to_owner[0].get_content()


def test_joining_with_a_known_mobile_tells_its_owner_by_text(apps, clients, pump, sms_gateway):
    make_members(apps["panel"], 1, channel="sms")  # +447700900000
    response = clients["panel"].post("/join", data={**FORM, "preferred_channel": "sms",
                                                    "email": "", "phone": "07700 900000"})
    assert (response.status_code, response.headers["Location"]) == (303, "/join/check?by=sms")
    pump()
    assert [m["to"] for m in sms_gateway.messages] == ["+447700900000"]
    assert "already on the panel" in sms_gateway.messages[0]["body"]
    assert _members(apps["panel"]) == 1


def test_landlines_and_malformed_numbers_cannot_join_by_text(apps, clients, pump, sms_gateway):
    for number in ("0161 496 0123", "0800 123 4567", "++44 7700 900123", "0800 FLOWERS"):
        response = clients["panel"].post("/join", data={**FORM, "preferred_channel": "sms",
                                                        "email": "", "phone": number})
        assert response.status_code == 400, number
        assert "Enter a UK mobile number" in response.data.decode()
    pump()
    assert sms_gateway.messages == [] and _members(apps["panel"]) == 0


def test_a_landline_texting_join_is_told_a_mobile_is_needed(apps, clients, sms_gateway):
    from tests.panel.test_sms import text_in

    reply = text_in(clients, sms_gateway, "+441614960123", "JOIN").data.decode()
    assert "UK mobile number" in reply
    later = text_in(clients, sms_gateway, "+441614960123", "30").data.decode()
    assert "F female" not in later  # no dialogue was started
    assert _members(apps["panel"]) == 0


def test_join_page_lists_wards_by_name_and_names_no_agency_that_is_not_there(apps, clients,
                                                                            pump):
    from tests.panel.test_targets import upload_targets

    upload_targets(apps, clients, pump)
    page = clients["panel"].get("/join").data.decode()
    assert '<option value="E05001001">Riverside Central</option>' in page
    assert ">E05001001<" not in page
    assert "college" not in page.lower()


def test_join_page_asks_language_and_tenure_like_the_api(apps, clients):
    response = clients["panel"].post("/join", data={**FORM, "language": "cy",
                                                    "tenure": "social_rented"})
    assert response.status_code == 303
    joined = _only_member(apps["panel"])
    assert (joined.language, joined.tenure) == ("cy", "social_rented")
    wrong = clients["panel"].post("/join", data={**FORM, "email": "x@example.org",
                                                 "language": "fr"})
    assert wrong.status_code == 400 and 'href="#language"' in wrong.data.decode()


def test_every_email_has_an_unsubscribe_link_and_one_click_headers(apps, clients, pump,
                                                                     smtp_server):
    refs = make_members(apps["panel"], 1)
    _deliver(apps, "outcome", refs[0])
    pump()
    message = smtp_server.messages[-1]
    url = re.search(r"<(http://panel\.test/u/[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in message.get_content()
    path = url.removeprefix("http://panel.test")
    assert b"Stop all messages" in clients["panel"].get(path).data
    assert member(apps["panel"], refs[0]).opted_out_at is None  # a GET never unsubscribes
    # As a mail provider sends it (RFC 8058): no cookie, no form token.
    one_click = Client(apps["panel"]).post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert member(apps["panel"], refs[0]).opted_out_at is not None
    assert clients["panel"].get("/u/forged-token").status_code == 404
    # Erased since: the old email's link still says nothing more will come.
    with apps["panel"].app_context(), new_session() as session:
        erase_member(session, apps["panel"].extensions["bus"],
                     session.scalars(select(Member).where(Member.member_ref == refs[0])).one(),
                     utcnow())
        session.commit()
    after_erasure = clients["panel"].get(path)
    assert after_erasure.status_code == 200
    assert b"You will get no more messages" in after_erasure.data


# What surveys and feedback put in each template's context (every placeholder it has).
CONTEXTS = {
    "invitation": {"survey_title": "Parks", "lead_agency_name": "Northtown Council",
                   "purpose": "To plan the parks budget", "decision": "The parks budget",
                   "decision_due": "1 June 2027"},
    "outcome": {"survey_title": "Parks", "we_did": "Opened the gates earlier",
                "why": "Most people asked for it"},
    "progress": {"survey_title": "Parks", "update": "Gates: done"},
}


def _deliver(apps, template, *refs, ref_prefix="d"):
    with apps["surveys"].app_context(), new_session() as session:
        apps["surveys"].extensions["bus"].send(session, "panel.deliver", {
            "template": template,
            "context": CONTEXTS.get(template, CONTEXTS["invitation"]),
            "recipients": [{"member_ref": r, "delivery_ref": f"{ref_prefix}:{i}",
                            "link": "http://surveys.test/r/x"} for i, r in enumerate(refs)]})
        session.commit()


def test_sms_sign_up_is_confirmed_by_replying_yes(apps, clients, pump, sms_gateway):
    from tests.panel.test_sms import text_in

    response = clients["panel"].post("/join", data={**FORM, "preferred_channel": "sms",
                                                    "email": "", "phone": "07700 900777"})
    assert response.status_code == 303 and "by=sms" in response.headers["Location"]
    pump()
    assert [m["to"] for m in sms_gateway.messages] == ["+447700900777"]
    assert "reply YES" in sms_gateway.messages[0]["body"]
    assert _only_member(apps["panel"]).status == "pending"
    assert b"you are on the panel" in text_in(clients, sms_gateway, "+447700900777", "Yes").data
    assert _only_member(apps["panel"]).status == "active"
