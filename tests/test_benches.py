"""Benches cannot rot: each one in bench/, run with --quick, still ends with its result line."""

from __future__ import annotations

import functools
import json
import math
import os
import pathlib
import signal
import subprocess
import sys

import phonenumbers
import pytest

from bench.distribute import synthetic_phone
from tests.conftest import POSTGRES_ADMIN_URL

ROOT = pathlib.Path(__file__).resolve().parent.parent
# bench/_*.py are what the benches share, not benches.
BENCHES = sorted((ROOT / "bench").glob("*.py"))
QUICK_RUN_SECONDS = 120


@functools.cache
def run_quick(bench: pathlib.Path) -> subprocess.CompletedProcess:
    """The bench as someone runs it from the repository, against the tests' PostgreSQL; in a
    session of its own, so a hung run takes its workers and servers down with it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "CIVICPANEL_BENCH_POSTGRES_URL": POSTGRES_ADMIN_URL}
    process = subprocess.Popen([sys.executable, str(bench.relative_to(ROOT)), "--quick"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=QUICK_RUN_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{bench.name} --quick took over {QUICK_RUN_SECONDS} s:\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_every_bench_is_found():
    assert {path.stem for path in BENCHES} >= {
        "console", "distribute", "feedback_publish", "ingest", "sample_draw", "sms_roundtrip",
        "weighting"}


def test_every_member_of_the_distribution_bench_has_a_number_of_their_own():
    # Members' phones are unique, and the full run launches to 100,000 of them.
    numbers = [synthetic_phone(index) for index in range(100_000)]
    assert len(set(numbers)) == len(numbers)
    assert numbers[:1000] == [f"+447700900{n:03d}" for n in range(1000)]  # Ofcom's drama range
    assert all(phonenumbers.is_possible_number(phonenumbers.parse(n)) for n in numbers[::997])


@pytest.mark.postgresql_only
@pytest.mark.parametrize("bench", BENCHES, ids=lambda path: path.stem)
def test_a_quick_bench_run_ends_with_its_json_result(bench):
    result = quick_result(bench)
    assert set(result) == {"bench", "figures", "ratio", "goal", "met"}
    assert result["bench"] == bench.stem
    assert result["figures"]["quick"] is True
    ratio = result["ratio"]
    assert isinstance(ratio, int | float) and not isinstance(ratio, bool)
    assert math.isfinite(ratio) and ratio > 0
    assert isinstance(result["met"], bool)
    assert isinstance(result["goal"], str) and result["goal"]


def quick_result(bench: pathlib.Path) -> dict:
    """The closing JSON line of the bench's quick run (one run per bench in a session)."""
    ran = run_quick(bench)
    assert ran.returncode == 0, ran.stderr[-3000:]
    lines = ran.stdout.strip().splitlines()
    assert lines, f"{bench.name} printed nothing:\n{ran.stderr[-3000:]}"
    return json.loads(lines[-1])


# The console pages of issue 12, each of which the console bench must find and time.
CONSOLE_PAGES = {
    ("surveys", "/surveys"), ("surveys", "/surveys/<int:survey_id>"),
    ("surveys", "/surveys/<int:survey_id>/build"), ("surveys", "/surveys/<int:survey_id>/preview"),
    ("surveys", "/surveys/<int:survey_id>/launch"),
    ("surveys", "/surveys/<int:survey_id>/fieldwork"), ("surveys", "/surveys/invitations"),
    ("panel", "/panel"), ("feedback", "/reports"),
}


@pytest.mark.postgresql_only
def test_the_console_bench_times_every_console_page_signed_in():
    figures = quick_result(ROOT / "bench" / "console.py")["figures"]
    pages = figures["pages"]
    timed = {(name.split(" ")[0], page["route"]) for name, page in pages.items()}
    assert timed >= CONSOLE_PAGES, f"not timed: {CONSOLE_PAGES - timed}; {figures['not_fetched']}"
    assert figures["pages_fetched"] == len(pages)
    # Each fetched as a role it is for (the bench stops on any answer but 200, a redirect to
    # the sign-in page included).
    assert pages["panel /panel"]["role"] == "panel_manager"
    assert pages["surveys /surveys"]["role"] == "officer"
    for page in pages.values():
        assert 0 < page["p50_ms"] <= page["p95_ms"]
    assert figures["slowest_p95_ms"] == max(page["p95_ms"] for page in pages.values())
    assert 0 < figures["healthz"]["p50_ms"] <= figures["healthz"]["p95_ms"]
