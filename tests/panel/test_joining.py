"""Joining by the web page or by SMS, with double opt-in, and unsubscribing from everything."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.panel.models import Delivery, Member
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


def test_same_email_cannot_join_twice(apps, clients):
    make_members(apps["panel"], 1)
    response = clients["panel"].post("/join", data={**FORM, "email": "m0@example.org"})
    assert response.status_code == 409 and b"already on the panel" in response.data


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
    one_click = clients["panel"].post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert member(apps["panel"], refs[0]).opted_out_at is not None
    assert clients["panel"].get("/u/forged-token").status_code == 404


def _deliver(apps, template, *refs, ref_prefix="d"):
    with apps["surveys"].app_context(), new_session() as session:
        apps["surveys"].extensions["bus"].send(session, "panel.deliver", {
            "template": template, "context": {"survey_title": "Parks"},
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
