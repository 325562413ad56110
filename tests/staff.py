"""Staff in tests: users added as an admin would, signed in by the link they are sent."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.surveys.role_rules import RoleRules
from services.surveys.staff_users import SignInSettings, add_staff_user, sign_in_link
from shared.db import new_session
from shared.staff import COOKIE_NAME

SIGN_IN_LINK = re.compile(r"https?://[^/\s]+(/sign-in/[A-Za-z0-9_.\-]+(?:\?\S+)?)")


def add_staff(apps, *, email: str, agency: str, role: str, name: str = "") -> int:
    with apps["surveys"].app_context(), new_session() as session:
        user = add_staff_user(session, RoleRules(), email=email,
                              name=name or email.split("@")[0], agency=agency, role=role)
        return user.id


def signed_in_browser(page, apps, surveys_url: str, *, email: str, agency: str, role: str,
                      name: str = "") -> None:
    """A staff user added and signed in in the browser, by following their sign-in link."""
    add_staff(apps, email=email, agency=agency, role=role, name=name)
    page.goto(surveys_url + link_for(apps, email))
    page.get_by_role("button", name="Continue").click()


def link_for(apps, email: str) -> str:
    """The path of a fresh sign-in link, as `flask users sign-in-link` prints it."""
    app = apps["surveys"]
    with app.app_context(), new_session() as session:
        from services.surveys.staff_users import user_for_sign_in_link

        user = user_for_sign_in_link(session, email)
        url = sign_in_link(user, SignInSettings.from_config(app.config))
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(apps, clients, email: str) -> str:
    """Follow a sign-in link in surveys' client and share the session cookie with the other
    services' clients, as a browser does across the three ports of one host: the cookie."""
    answer = clients["surveys"].post(link_for(apps, email))
    assert answer.status_code == 303, answer.data
    cookie = clients["surveys"].get_cookie(COOKIE_NAME)
    for name in ("panel", "feedback"):
        clients[name].set_cookie(COOKIE_NAME, cookie.value)
    return cookie.value
