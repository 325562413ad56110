"""docs/console.md names, for every action of the three JSON APIs, the console page that does
it; the list has no gaps, every page it names exists, and no page lets in a role that the API
beside it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services import feedback, panel, surveys

DOC = Path(__file__).resolve().parents[1] / "docs" / "console.md"
# | `POST /api/v1/surveys/<int:survey_id>/launch` | `POST /surveys/<int:survey_id>/launch` ... |
ROW = re.compile(r"^\|\s*`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`]*)`\s*\|\s*([^|]*?)\s*\|"
                 r"\s*(.*?)\s*\|")
PAGE = re.compile(r"`(?:(GET|POST) )?(/[^`]*)`")
NOT_STAFF_ACTIONS = {"/api/v1/openapi.json"}  # the API's own description
NO_PAGE = "**no page yet**"
# The API actions whose console page is still to be built: docs/console.md says so beside each.
# None is left; an action added without a page goes here and in docs/console.md.
ACTIONS_WITHOUT_A_PAGE: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def route_roles(database_urls):
    """(method, rule) → the roles its view admits (() for every role, None for no sign-in),
    over the three services."""
    found = {}
    for service, name in ((panel, "panel"), (surveys, "surveys"), (feedback, "feedback")):
        app = service.create_app({"DATABASE_URL": database_urls[name], "TESTING": True})
        for rule in app.url_map.iter_rules():
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found[(method, rule.rule)] = _roles(app.view_functions[rule.endpoint], method)
        app.extensions["database"].engine.dispose()
    return found


def _roles(view, method: str):
    handler = getattr(getattr(view, "view_class", None), method.lower(), None)
    if handler is not None and hasattr(handler, "required_roles"):
        return handler.required_roles
    return getattr(view, "required_roles", None)


def documented_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        if match := ROW.match(line):
            rows.append(match.groups())
    return rows


def test_every_api_action_has_its_page_in_the_console_docs(route_roles):
    documented = {(method, path) for method, path, _, _ in documented_rows()}
    actions = {(method, rule) for method, rule in route_roles
               if rule.startswith("/api/") and rule not in NOT_STAFF_ACTIONS}
    assert sorted(actions - documented) == []
    assert sorted(documented - actions) == []  # nothing listed that the API does not have


def _roles_in_words(roles) -> str:
    return "public" if roles is None else ", ".join(roles) or "any"


def test_each_page_named_exists_and_admits_no_role_its_api_refuses(route_roles):
    problems, without_page = [], set()
    for method, path, roles_cell, page_cell in documented_rows():
        api_roles = route_roles.get((method, path))
        if (method, path) in route_roles and roles_cell != _roles_in_words(api_roles):
            problems.append(f"{method} {path}: the API admits {_roles_in_words(api_roles)}, "
                            f"the docs say {roles_cell}")
        if page_cell.startswith(NO_PAGE):
            without_page.add((method, path))
            continue
        page_method, page_path = PAGE.findall(page_cell)[0]
        page_key = (page_method or "GET", page_path)
        if page_key not in route_roles:
            problems.append(f"{method} {path}: page {page_key} does not exist")
            continue
        page_roles = route_roles[page_key]
        if api_roles is None:  # a public API: its page is public too
            continue
        if page_roles is None:
            problems.append(f"{method} {path}: page {page_key} needs no sign-in")
        elif api_roles and (not page_roles or set(page_roles) - set(api_roles)):
            problems.append(f"{method} {path}: page {page_key} admits "
                            f"{_roles_in_words(page_roles)}, the API only {api_roles}")
    assert problems == []
    assert without_page == ACTIONS_WITHOUT_A_PAGE
