"""Panel managers' member pages: search, one member's record, the subject access export as a
download, and erasure behind a confirmation. Personal data: panel managers only, as the API."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from services.panel.console_forms import FormRefused, Problems
from services.panel.contact_cap import ContactCap
from services.panel.erasure import ERASURE_EFFECTS, access_export, forget_member
from services.panel.member_forms import (
    HOW_TOLD,
    add_member_from_form,
    change_consent_from_form,
    member_form_options,
    opt_out_choices,
    opt_out_from_form,
)
from services.panel.member_record import PURPOSE_LABELS, find_members, member_record
from services.panel.queries import panel_member
from shared.audit import current_actor
from shared.auth import current_caller
from shared.bus import utcnow
from shared.console import signed_in_member, staff_page
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


def _new_member_form(problems: Problems, values: MultiDict, status: int = 200):
    return render_template("console/members/new.html", problems=problems, values=values,
                           has_errors=bool(problems), **member_form_options(
                               get_session(), current_app.config["PROFILE_EXTRA_ATTRIBUTES"])
                           ), status


@members_pages.get("/panel/members/new")
@staff_page(*MANAGERS)
def new_member():
    return _new_member_form(Problems(), MultiDict())


@members_pages.post("/panel/members/new")
@staff_page(*MANAGERS)
def add():
    try:
        added = add_member_from_form(get_session(), form=request.form,
                                     allow_drama=current_app.config["ALLOW_DRAMA_NUMBERS"])
    except FormRefused as refused:
        return _new_member_form(refused.problems, request.form, refused.status)
    flash("The member is added to the panel.")
    return redirect(url_for("members_pages.member", member_ref=added.member_ref), code=303)


def _consent_form(member_ref, problems: Problems, values: MultiDict | None, status: int = 200):
    found = panel_member(get_session(), member_ref)
    return render_template("console/members/consent.html", member=found, problems=problems,
                           values=values, has_errors=bool(problems), how_told=HOW_TOLD,
                           purposes=PURPOSE_LABELS), status


@members_pages.get("/panel/members/<uuid:member_ref>/consent")
@staff_page(*MANAGERS)
def consent_form(member_ref):
    return _consent_form(member_ref, Problems(), None)


@members_pages.post("/panel/members/<uuid:member_ref>/consent")
@staff_page(*MANAGERS)
def change_consent(member_ref):
    try:
        changed = change_consent_from_form(get_session(), member_ref=str(member_ref),
                                           form=request.form, agency=current_caller().agency)
    except FormRefused as refused:
        return _consent_form(member_ref, refused.problems, request.form, refused.status)
    flash("Consent changed: " + "; ".join(changed) + "." if changed
          else "Nothing changed: their consent was already as you said.")
    return redirect(url_for("members_pages.member", member_ref=member_ref), code=303)


def _opt_out_choices(member_ref) -> list[tuple[str, str]]:
    return opt_out_choices(get_session(), member_ref=str(member_ref),
                           own=current_caller().agency, own_name=signed_in_member().agency_name)


def _opt_out_form(member_ref, problems: Problems, status: int = 200):
    return render_template("console/members/opt_out.html", problems=problems,
                           member=panel_member(get_session(), member_ref),
                           choices=_opt_out_choices(member_ref), has_errors=bool(problems)), status


@members_pages.get("/panel/members/<uuid:member_ref>/agency-opt-outs")
@staff_page(*MANAGERS)
def opt_out_form(member_ref):
    return _opt_out_form(member_ref, Problems())


@members_pages.post("/panel/members/<uuid:member_ref>/agency-opt-outs")
@staff_page(*MANAGERS)
def opt_out(member_ref):
    try:
        name = opt_out_from_form(get_session(), member_ref=str(member_ref), form=request.form,
                                 choices=_opt_out_choices(member_ref),
                                 agency=current_caller().agency)
    except FormRefused as refused:
        return _opt_out_form(member_ref, refused.problems, refused.status)
    flash(f"Opt-out recorded: {name} will invite them to nothing more.")
    return redirect(url_for("members_pages.member", member_ref=member_ref), code=303)
