"""Panel managers' member pages: search, one member's record, the subject access export as a
download, and erasure behind a confirmation. Personal data: panel managers only, as the API."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from services.panel.contact_cap import ContactCap
from services.panel.erasure import ERASURE_EFFECTS, access_export, forget_member
from services.panel.member_record import find_members, member_record
from services.panel.queries import panel_member
from shared.audit import current_actor
from shared.bus import utcnow
from shared.console import staff_page
from shared.db import get_session
from shared.service import bus

members_pages = Blueprint("members_pages", __name__, template_folder="templates")
MANAGERS = ("panel_manager",)  # the API's members endpoints: panel managers only


@members_pages.get("/panel/members")
@staff_page(*MANAGERS)
def search():
    text = request.args.get("q", "").strip()[:320]
    found = find_members(get_session(), text=text,
                         allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"])
    return render_template("console/members/search.html", q=text, found=found,
                           erased=request.args.get("erased") == "1")


@members_pages.get("/panel/members/<uuid:member_ref>")
@staff_page(*MANAGERS)
def member(member_ref):
    record = member_record(get_session(), member_ref=str(member_ref), now=utcnow(),
                           cap=ContactCap.from_config(current_app.config))
    return render_template("console/members/member.html", record=record,
                           member_ref=str(member_ref))


@members_pages.get("/panel/members/<uuid:member_ref>/export")
@staff_page(*MANAGERS)
def export(member_ref):
    data = access_export(get_session(), member_ref=str(member_ref))
    return current_app.response_class(
        json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json",
        headers={"Content-Disposition":
                 f'attachment; filename="subject-access-{member_ref}.json"'})


@members_pages.get("/panel/members/<uuid:member_ref>/erase")
@staff_page(*MANAGERS)
def confirm_erasure(member_ref):
    found = panel_member(get_session(), member_ref)
    return render_template("console/members/erase.html", member=found,
                           effects=ERASURE_EFFECTS)


@members_pages.post("/panel/members/<uuid:member_ref>/erase")
@staff_page(*MANAGERS)
def erase(member_ref):
    forget_member(get_session(), bus(), current_actor(), member_ref=str(member_ref),
                  now=utcnow())
    return redirect(url_for("members_pages.search", erased="1"), code=303)
