"""The staff console's shared parts: who is signed in, the role check of every staff page, the
navigation across the three services, and signing out (from any of them).

A staff page is decorated with `staff_page(*roles)`: it finds the signed-in person from the
shared session (shared/staff.py), sends anyone else to surveys' sign-in page, refuses a role
the page is not for, and sets `g.caller` exactly as an API key of that agency and role would,
so the page calls the same use cases with the same agency rules as the API.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    request,
)
from flask import session as browser_session
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import PackageLoader, PrefixLoader

from shared.auth import Caller
from shared.staff import COOKIE_NAME, SessionTimeouts, StaffMember, StaffSessions

ALL_ROLES: tuple[str, ...] = ()  # no roles named: any signed-in staff member


@dataclass(frozen=True)
class NavigationItem:
    label: str
    service: str
    path: str
    roles: tuple[str, ...]  # empty: every role


# The console's service navigation, in the order it is shown; each item shows only to the
# roles whose pages it leads to.
NAVIGATION = (
    NavigationItem("Surveys", "surveys", "/surveys", ALL_ROLES),
    NavigationItem("Calendar", "surveys", "/calendar", ALL_ROLES),
    NavigationItem("Panel", "panel", "/panel", ("panel_manager", "admin")),
    # Weights, tables and trends are for every role of a sponsor, as in the analysis API.
    NavigationItem("Results", "surveys", "/results", ALL_ROLES),
    NavigationItem("Feedback", "feedback", "/reports", ("decision_owner", "officer", "admin")),
    NavigationItem("Admin", "surveys", "/admin", ("admin",)),
)


@dataclass(frozen=True)
class NavigationLink:
    label: str
    url: str
    active: bool


def staff_sessions() -> StaffSessions:
    return current_app.extensions["staff_sessions"]


def signed_in_member() -> StaffMember | None:
    if "staff" not in g:
        g.staff = staff_sessions().find(request.cookies.get(COOKIE_NAME))
    return g.staff


def staff_page(*roles: str):
    """Let a page run only for a signed-in staff member of one of these roles (none: any)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            member = signed_in_member()
            if member is None:
                return redirect(sign_in_url(next_url=this_page_url()))
            if roles and member.role not in roles:
                abort(403)
            g.caller = Caller(agency=member.agency, role=member.role)
            return view(*args, **kwargs)

        wrapper.required_roles = roles
        return wrapper

    return decorator


def service_url(service: str, path: str = "") -> str:
    return current_app.config[f"{service.upper()}_URL"].rstrip("/") + path


def this_page_url() -> str:
    """This request's address as the public sees it (its service's configured address)."""
    query = request.query_string.decode()
    return service_url(current_app.config["SERVICE_NAME"], request.path) + (
        f"?{query}" if query else "")


def sign_in_url(next_url: str | None = None, **arguments: str) -> str:
    if next_url:
        arguments["next"] = next_url
    query = urlencode(arguments)
    return service_url("surveys", "/sign-in") + (f"?{query}" if query else "")


def safe_next_url(candidate: str | None) -> str:
    """Where to go after signing in: a page of one of the three services, never elsewhere."""
    default = service_url("surveys", "/surveys")
    if not candidate or len(candidate) > 2000 or "\\" in candidate:
        return default
    target = urlsplit(candidate)
    for service in ("panel", "surveys", "feedback"):
        base = urlsplit(service_url(service))
        if (target.scheme, target.netloc) == (base.scheme, base.netloc) and \
                target.path.startswith(base.path or "/"):
            return candidate
    return default


def navigation_for(member: StaffMember | None) -> list[NavigationLink]:
    if member is None:
        return []
    here = this_page_url()
    links = []
    for item in NAVIGATION:
        if item.roles and member.role not in item.roles:
            continue
        url = service_url(item.service, item.path)
        links.append(NavigationLink(item.label, url, active=here.startswith(url)))
    return links


console_auth = Blueprint("console_auth", __name__)


@console_auth.post("/sign-out")
def sign_out():
    staff_sessions().end(request.cookies.get(COOKIE_NAME))
    browser_session.clear()  # the next person at this browser gets a form token of their own
    response = make_response(redirect(sign_in_url(signed_out="1"), code=303))
    clear_staff_cookie(response)
    return response


def hand_over_staff_session(response, session_id: str) -> None:
    """Sign this browser in afresh: a staff session it still held ends, its session with this
    service (and so its form token) starts again, and the new staff session's cookie is set."""
    staff_sessions().end(request.cookies.get(COOKIE_NAME))
    browser_session.clear()
    set_staff_cookie(response, session_id)


def set_staff_cookie(response, session_id: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure in production; no expiry of its own
    (the browser drops it on closing; the store ends it on time)."""
    response.set_cookie(COOKIE_NAME, session_id, httponly=True, samesite="Lax", path="/",
                        secure=current_app.config["CIVICPANEL_ENV"] == "production")


def clear_staff_cookie(response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax",
                           secure=current_app.config["CIVICPANEL_ENV"] == "production")


def _console_context() -> dict:
    member = g.get("staff")
    return {
        "staff": member,
        "console_navigation": navigation_for(member),
        "sign_out_url": service_url(current_app.config["SERVICE_NAME"], "/sign-out")
        if member else None,
        "partnership_name": current_app.config["PARTNERSHIP_NAME"],
    }


# GOV.UK Frontend's Jinja macros and the WTForms widgets that render through them, found by
# their packages' own names ("govuk_frontend_jinja/components/...").
govuk_templates = Blueprint("govuk_templates", __name__)
govuk_templates.jinja_loader = PrefixLoader({
    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
})


def init_console(app: Flask) -> None:
    app.extensions["staff_sessions"] = StaffSessions(
        app.extensions["redis"], SessionTimeouts.from_config(app.config))
    app.register_blueprint(console_auth)
    app.register_blueprint(govuk_templates)
    WTFormsHelpers(app)
    app.context_processor(_console_context)
