"""Entry points stay thin (REFACTOR.md rule 1): in every api.py, analysis_api.py, views.py,
cli.py and jobs.py, no function is longer than 25 lines and none commits or rolls back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_MODULES = ("api.py", "analysis_api.py", "views.py", "cli.py", "jobs.py")
MAX_LINES = 25
# Surveys joins this list when its entry points are thin (issue 11, item 3).
SERVICES = ("panel", "feedback")


def entry_point_files(service: str) -> list[Path]:
    return [path for name in ENTRY_MODULES
            if (path := ROOT / "services" / service / name).exists()]


def functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def transaction_calls(node: ast.AST) -> list[int]:
    return [call.lineno for call in ast.walk(node) if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute) and call.func.attr in ("commit", "rollback")]


@pytest.mark.parametrize("service", SERVICES)
def test_no_entry_point_function_is_long_or_owns_a_transaction(service):
    long, committing = [], []
    for path in entry_point_files(service):
        for node in functions(path):
            where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            if node.end_lineno - node.lineno + 1 > MAX_LINES:
                long.append(f"{where} ({node.end_lineno - node.lineno + 1} lines)")
            if transaction_calls(node):
                committing.append(where)
    assert entry_point_files(service)
    assert long == [], "entry points longer than 25 lines"
    assert committing == [], "entry points that commit or roll back"
