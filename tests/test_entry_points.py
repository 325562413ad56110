"""Entry points stay thin: every API method, page, CLI command and job handler parses, calls
one use case and answers; none is long, and none commits or rolls back a transaction (the use
cases in the domain modules own it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# API modules, page modules (citizens' and the console's), CLI commands and queue handlers.
ENTRY_POINT_PATTERNS = ("api.py", "*_api.py", "views.py", "*_views.py", "cli.py", "jobs.py")
SERVICES = ("panel", "surveys", "feedback")
LONGEST = 25


def entry_point_files() -> list[Path]:
    return sorted({path for service in SERVICES for pattern in ENTRY_POINT_PATTERNS
                   for path in (ROOT / "services" / service).glob(pattern)})


def functions(path: Path):
    source = path.read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, ast.get_source_segment(source, node)


@pytest.mark.parametrize("path", entry_point_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_entry_point_is_long_or_owns_a_transaction(path):
    long = [f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
            for node, _ in functions(path) if node.end_lineno - node.lineno + 1 > LONGEST]
    committing = [f"{node.name} (line {node.lineno})" for node, text in functions(path)
                  if ".commit(" in text or ".rollback(" in text]
    assert not long, f"longer than {LONGEST} lines: {long}"
    assert not committing, f"commits or rolls back: {committing}"


def test_every_service_with_entry_points_is_walked():
    assert {p.parent.name for p in entry_point_files()} == set(SERVICES)
