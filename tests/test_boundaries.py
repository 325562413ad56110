"""The boundaries between services hold: no imports across them, no personal data outside panel."""

from __future__ import annotations

import ast
import pathlib

import pytest
from sqlalchemy import String

from services.feedback import models as feedback_models
from services.surveys import models as surveys_models

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICES = ("panel", "surveys", "feedback")


def imported_modules(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_another_service(service):
    others = [s for s in SERVICES if s != service]
    offenders = []
    for path in (ROOT / "services" / service).rglob("*.py"):
        for module in imported_modules(path):
            if any(module == f"services.{o}" or module.startswith(f"services.{o}.")
                   for o in others):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_shared_code_never_imports_a_service():
    offenders = [f"{path.relative_to(ROOT)} imports {module}"
                 for path in (ROOT / "shared").rglob("*.py")
                 for module in imported_modules(path) if module.startswith("services")]
    assert offenders == []


# Columns whose name sounds personal but holds no panel member's data.
NOT_PERSONAL = {
    "population_targets.area_name",  # a ward's name, like "Riverside Central"
    # Agencies' own staff who sign in to the console: their work names and addresses, kept
    # where their accounts are; never a panel member's.
    "staff_users.email", "staff_users.name",
    "report_sponsors.name",  # the sponsoring agency's name, like "Riverside Council"
}


@pytest.mark.parametrize("models", [surveys_models, feedback_models], ids=["surveys", "feedback"])
def test_nothing_outside_panel_stores_a_phone_number_or_email(models):
    suspicious = []
    for table in models.Base.metadata.sorted_tables:
        for column in table.columns:
            if any(word in column.name for word in ("email", "phone", "name", "address")) \
                    and isinstance(column.type, String) and table.name != "agencies" \
                    and f"{table.name}.{column.name}" not in NOT_PERSONAL:
                suspicious.append(f"{table.name}.{column.name}")
    assert suspicious == []


def test_no_request_handler_enqueues_directly():
    """Requests write to the outbox; only the relay talks to RQ."""
    offenders = []
    for service in SERVICES:
        for name in ("api.py", "views.py"):
            path = ROOT / "services" / service / name
            if path.exists() and ({"rq"} | {m for m in imported_modules(path)
                                             if m.startswith("rq.")}) & imported_modules(path):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
