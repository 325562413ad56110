"""The admin's console pages in surveys: the partnership's agencies, the agency's staff users
(invite, role, disable), its API keys (issue, shown once; revoke) and the audit log.

Each page is for admins only, and does what the API's admin would do, through the same use
cases, for the admin's own agency (agencies are the partnership's, for every one to see).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from services.surveys import keys, queries, staff_users
from services.surveys.admin_forms import (
    ROLE_HINTS,
    ROLE_LABELS,
    AuditFilterForm,
    ConfirmForm,
    InviteForm,
    IssueKeyForm,
    RoleForm,
    show_rule_broken,
)
from services.surveys.audit import DETAIL_LABELS, AuditFilter, audit_page, pages_around
from services.surveys.role_rules import RoleRules
from shared.audit import current_actor
from shared.auth import current_caller
from shared.console import staff_page, staff_sessions
from shared.db import get_session
from shared.errors import RuleBroken
from shared.service import bus

admin = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                  static_folder="static/admin", static_url_path="/static")
_LOCAL = ZoneInfo("Europe/London")


@admin.app_template_filter("console_time")
def console_time(moment: datetime | None) -> str:
    """A moment as UK staff read it: "2 Nov 2026, 14:05"."""
    return moment.astimezone(_LOCAL).strftime("%-d %b %Y, %H:%M") if moment else ""


@admin.app_template_filter("email_wrap")
def email_wrap(email: str) -> Markup:
    """An email address that may break before its @ on a narrow screen."""
    local, at, domain = email.partition("@")
    return escape(local) + (Markup("<wbr>@") + escape(domain) if at else "")


@admin.context_processor
def _roles() -> dict:
    return {"role_labels": ROLE_LABELS}


def _offer_roles(form) -> RoleRules:
    """The partnership's role rules, with the form offering only the roles this agency's
    staff and keys may hold."""
    rules = RoleRules.from_config(current_app.config)
    allowed = set(rules.roles_for(current_caller().agency))
    form.role.choices = [choice for choice in form.role.choices if choice.value in allowed]
    return rules


def _form_page(template: str, form, **context):
    if "role" in form:  # each role offered with its hint, in the same order
        context["role_hint_items"] = [{"hint": {"text": ROLE_HINTS[choice.value]}}
                                      for choice in form.role.choices]
    return render_template(template, form=form, **context), 400 if form.errors else 200


@admin.get("")
@staff_page("admin")
def hub():
    return render_template("console/admin/hub.html")


@admin.get("/agencies")
@staff_page("admin")
def agencies():
    return render_template("console/admin/agencies.html",
                           agencies=queries.agencies(get_session()))


# -- users ---------------------------------------------------------------------------------


@admin.get("/users")
@staff_page("admin")
def users():
    return render_template("console/admin/users.html", users=staff_users.agency_users(
        get_session(), agency=current_caller().agency))


@admin.route("/users/invite", methods=["GET", "POST"])
@staff_page("admin")
def invite():
    form = InviteForm()
    rules = _offer_roles(form)
    if form.validate_on_submit():
        try:
            user = staff_users.invite_user(
                get_session(), bus(), staff_users.SignInSettings.from_config(current_app.config),
                rules, current_actor(), email=form.email.data, name=form.name.data,
                role=form.role.data)
        except RuleBroken as exc:
            show_rule_broken(form, exc)
        else:
            flash(f"We have emailed {user.email} a link to sign in.")
            return redirect(url_for("admin.users"), code=303)
    return _form_page("console/admin/invite.html", form)


@admin.get("/users/<int:user_id>")
@staff_page("admin")
def user(user_id: int):
    return render_template("console/admin/user.html", user=staff_users.agency_user(
        get_session(), current_actor(), user_id), form=ConfirmForm())


@admin.route("/users/<int:user_id>/role", methods=["GET", "POST"])
@staff_page("admin")
def change_role(user_id: int):
    session = get_session()
    member = staff_users.agency_user(session, current_actor(), user_id)
    form = RoleForm(role=member.role)
    rules = _offer_roles(form)
    if form.validate_on_submit():
        try:
            staff_users.change_role(session, staff_sessions(), rules, current_actor(),
                                    who=user_id, role=form.role.data)
        except RuleBroken as exc:
            show_rule_broken(form, exc)
        else:
            flash(f"{member.name} is now {ROLE_LABELS[member.role].lower()}.")
            return redirect(url_for("admin.user", user_id=user_id), code=303)
    return _form_page("console/admin/role.html", form, user=member)


@admin.get("/users/<int:user_id>/disable")
@staff_page("admin")
def confirm_disable(user_id: int):
    return render_template("console/admin/disable.html", form=ConfirmForm(),
                           user=staff_users.agency_user(get_session(), current_actor(), user_id))


@admin.post("/users/<int:user_id>/disable")
@staff_page("admin")
def disable(user_id: int):
    member = staff_users.disable_user(get_session(), staff_sessions(), current_actor(),
                                      who=user_id)
    flash(f"{member.name} is disabled and has been signed out everywhere.")
    return redirect(url_for("admin.user", user_id=user_id), code=303)


@admin.post("/users/<int:user_id>/enable")
@staff_page("admin")
def enable(user_id: int):
    member = staff_users.enable_user(get_session(), current_actor(), who=user_id)
    flash(f"{member.name} can sign in again.")
    return redirect(url_for("admin.user", user_id=user_id), code=303)


# -- API keys ------------------------------------------------------------------------------


@admin.get("/keys")
@staff_page("admin")
def api_keys():
    return render_template("console/admin/keys.html", keys=queries.keys_of(
        get_session(), agency=current_caller().agency))


@admin.route("/keys/issue", methods=["GET", "POST"])
@staff_page("admin")
def issue_key():
    form = IssueKeyForm()
    rules = _offer_roles(form)
    if not form.validate_on_submit():
        return _form_page("console/admin/issue_key.html", form)
    issued = keys.issue(get_session(), bus(), rules, current_actor(),
                        agency=current_caller().agency, role=form.role.data,
                        label=form.label.data or "")
    page = render_template("console/admin/key_issued.html", issued=issued)
    # The key itself is on this page only: no cache keeps it.
    return page, 201, {"Cache-Control": "no-store"}


@admin.get("/keys/<key_prefix>/revoke")
@staff_page("admin")
def confirm_revoke(key_prefix: str):
    return render_template("console/admin/revoke_key.html", form=ConfirmForm(),
                           key=keys.live_key(get_session(), agency=current_caller().agency,
                                             key_prefix=key_prefix))


@admin.post("/keys/<key_prefix>/revoke")
@staff_page("admin")
def revoke_key(key_prefix: str):
    keys.revoke(get_session(), bus(), current_actor(), key_prefix=key_prefix,
                agency=current_caller().agency)
    flash(f"The key {key_prefix} is revoked: it no longer works in any service.")
    return redirect(url_for("admin.api_keys"), code=303)


# -- the audit log -------------------------------------------------------------------------


@admin.get("/audit")
@staff_page("admin")
def audit():
    form = AuditFilterForm(request.args)
    valid = form.validate()
    chosen = AuditFilter(action=form.action.data or None, actor=form.actor.data or None,
                         since=form.since.data, until=form.until.data) if valid else AuditFilter()
    found = audit_page(get_session(), agency=current_caller().agency, chosen=chosen,
                       page=request.args.get("page", 1, type=int))
    return render_template("console/admin/audit.html", form=form, found=found,
                           described=DETAIL_LABELS, page_url=_audit_page_url,
                           pager=_pager(found.page, found.pages)), 200 if valid else 400


def _pager(page: int, pages: int) -> list[dict]:
    """GOV.UK pagination's items for this page of the log."""
    return [{"ellipsis": True} if number is None else {
        "number": number, "href": _audit_page_url(number), "current": number == page}
        for number in pages_around(page, pages)]


def _audit_page_url(page: int) -> str:
    """This filtered log's address at another page."""
    arguments = request.args.to_dict(flat=False)
    arguments["page"] = [str(page)]
    return url_for("admin.audit", **arguments)
