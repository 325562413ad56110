"""Web response ingestion: surveys' /r/<token> under gunicorn on PostgreSQL against a bare INSERT.

Both run under gunicorn with 2 sync workers each on the same PostgreSQL database in the same
run: surveys' real respond endpoint (checks the link, validates every answer, saves the
response and its answers) and a minimal Flask endpoint doing one INSERT of the same response
row.
The client posts the same answers to each with a few concurrent connections, one response per
invitation, as a browser sends them from surveys' page (its hidden fields and CSRF token
included, with the session cookie the page set); the two take turns in rounds, so a slow spell
of the machine falls on both, and the ratio reported is the median of the rounds' ratios.
Run as `.venv/bin/python bench/ingest.py [--quick]`; prints one JSON line. Sized by
INGEST_REQUESTS and INGEST_CONCURRENCY; --quick measures 200 requests in two rounds, with
one gunicorn worker each.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_admin_url, print_result, quick_requested  # noqa: E402

ANSWERS = {"feel_safe": "4", "priority": "Police patrols",
           "comments": "Brighter lights by the bus station"}


@dataclass(frozen=True)
class Size:
    requests: int  # measured, to each endpoint
    warmup: int  # to each endpoint, before measuring
    concurrency: int
    rounds: int
    gunicorn_workers: int  # of each endpoint

    @classmethod
    def full(cls) -> Size:
        # Rounds of 1,000 answers to each endpoint, about 1.5 s each: rounds of 300 (0.4 s)
        # were moved by any spell of the machine, their ratios from 0.55 to 0.88.
        return cls(requests=int(os.environ.get("INGEST_REQUESTS", "10000")), warmup=200,
                   concurrency=int(os.environ.get("INGEST_CONCURRENCY", "4")), rounds=10,
                   gunicorn_workers=2)

    @classmethod
    def quick(cls) -> Size:
        return cls(requests=200, warmup=20, concurrency=4, rounds=2, gunicorn_workers=1)


def baseline_app():
    """The minimal endpoint: read the form, one INSERT of the response row, redirect."""
    from flask import Flask, redirect, request
    from sqlalchemy import text

    from shared.db import make_engine

    app = Flask("baseline")
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    insert = text("INSERT INTO responses (survey_id, invitation_id, channel, submitted_at) "
                  "VALUES (:survey_id, :invitation_id, 'web', :now)")

    @app.post("/r/<token>")
    def respond(token: str):
        request.form.get("feel_safe")
        with engine.begin() as connection:
            connection.execute(insert, {"survey_id": 1, "invitation_id": int(token[1:]),
                                        "now": datetime.now(UTC)})
        return redirect(f"/r/{token}/thanks", code=303)

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, invitations: int) -> tuple[list[str], list[str]]:
    """A survey in fieldwork with invitations for both endpoints: (surveys', baseline's) tokens."""
    from services import surveys
    from services.surveys.lifecycle import create_survey
    from services.surveys.models import Agency, Invitation
    from services.surveys.schemas import SurveyCreateSchema
    from shared.db import new_session, upgrade_database
    from tests.scenario import survey_payload

    upgrade_database(url, surveys.MIGRATIONS_DIR)
    app = surveys.create_app({"DATABASE_URL": url, "TESTING": True})
    profile = {"age_band": "25-34", "gender": "female", "ethnicity": "white",
               "disability": "not_disabled", "area": "E05001001"}
    with app.app_context(), new_session() as session:
        session.add(Agency(slug="council", name="Riverside Council"))
        session.flush()
        data = SurveyCreateSchema().load(survey_payload())
        survey = create_survey(session, data=data, lead_agency="council")
        survey.status, survey.launched_at = "fieldwork", datetime.now(UTC)
        rows = [Invitation(survey_id=survey.id, member_ref=str(uuid.uuid4()),
                           token=secrets.token_urlsafe(32), channel="email", profile=profile)
                for _ in range(2 * invitations)]
        session.add_all(rows)
        session.commit()
        tokens = [row.token for row in rows[:invitations]]
        baseline = [f"b{row.id}" for row in rows[invitations:]]
    app.extensions["database"].engine.dispose()
    return tokens, baseline


def start_gunicorn(target: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    # Its log goes to a file, not a pipe nobody reads: a full pipe would stall the workers.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}",
         "--chdir", str(ROOT / "bench"), "--pythonpath", str(ROOT), "--log-level", "warning",
         target],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
    process.log_file = log
    return process


def wait_until_serving(process: subprocess.Popen, port: int) -> None:
    """Until one of gunicorn's workers answers: the master binds the port before any worker
    has imported the app, which takes seconds on a busy machine."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return
        except OSError:
            if process.poll() is not None:
                process.log_file.seek(0)
                raise RuntimeError(process.log_file.read().decode()) from None
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"gunicorn on port {port} did not start")


@dataclass(frozen=True)
class Form:
    """What a browser posts from the survey's page: its fields, and the cookie the page set
    (the session that the form's CSRF token belongs to)."""

    body: str
    cookie: str = ""


def form_of_page(port: int, token: str) -> Form:
    """The answers as a browser posts them from the survey's page, hidden fields included."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/r/{token}")
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return Form(urlencode({**hidden, **ANSWERS}),
                "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items()))


def post(port: int, token: str, form: Form) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if form.cookie:
        headers["Cookie"] = form.cookie
    connection.request("POST", f"/r/{token}", body=form.body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 303:
        raise RuntimeError(f"POST /r/{token} answered {response.status}")
    return time.perf_counter() - started


def post_all(port: int, tokens: list[str], form: Form,
             concurrency: int) -> tuple[list[float], float]:
    """Post one response per token with `concurrency` clients: latencies and elapsed seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(tokens)

    failures: list[Exception] = []

    def client():
        mine = []
        try:
            while True:
                with lock:
                    token = next(cursor, None)
                if token is None:
                    break
                mine.append(post(port, token, form))
        except Exception as failure:  # noqa: BLE001 - raised again below, in the main thread
            failures.append(failure)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latencies, time.perf_counter() - started


def load_in_rounds(ports: dict[str, int], tokens: dict[str, list[str]],
                   forms: dict[str, Form], size: Size) -> tuple[dict[str, dict], list[float]]:
    """Each endpoint takes its share round by round, in alternating order, so a slow spell of
    the machine or the database (a checkpoint, autovacuum) falls on both alike: each
    endpoint's figures, and surveys' responses/s over the baseline's in each round."""
    latencies: dict[str, list[float]] = {name: [] for name in ports}
    elapsed = dict.fromkeys(ports, 0.0)
    ratios = []
    names = list(ports)
    for round_number in range(size.rounds):
        rates = {}
        for name in names if round_number % 2 == 0 else reversed(names):
            share = len(tokens[name]) // size.rounds
            mine = tokens[name][round_number * share:(round_number + 1) * share]
            taken, seconds = post_all(ports[name], mine, forms[name], size.concurrency)
            latencies[name] += taken
            elapsed[name] += seconds
            rates[name] = len(taken) / seconds
        ratios.append(round(rates["surveys"] / rates["minimal_insert"], 3))
    figures = {}
    for name, taken in latencies.items():
        taken.sort()
        figures[name] = {"responses_per_second": round(len(taken) / elapsed[name], 1),
                         "p50_ms": round(statistics.median(taken) * 1000, 2),
                         "p99_ms": round(taken[int(len(taken) * 0.99) - 1] * 1000, 2)}
    return figures, ratios


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    admin_url = postgres_admin_url()
    database = f"civicpanel_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + \
        f"/{database}"
    processes: list[subprocess.Popen] = []
    try:
        total = size.requests + size.warmup
        tokens, baseline_tokens = seed(url, total)
        env = {"SURVEYS_DATABASE_URL": url, "BENCH_DATABASE_URL": url,
               "SECRET_KEY": "bench", "CIVICPANEL_ENV": "development",
               # One client posts every answer: counted as usual, never refused.
               "RESPONSE_RATE_LIMIT": "1000000 per minute"}
        surveys_port, baseline_port = free_port(), free_port()
        ports = {"surveys": surveys_port, "minimal_insert": baseline_port}
        processes.append(start_gunicorn("services.surveys:create_app()", surveys_port, env,
                                        size.gunicorn_workers))
        processes.append(start_gunicorn("ingest:baseline_app()", baseline_port, env,
                                        size.gunicorn_workers))
        for process, port in zip(processes, ports.values(), strict=True):
            wait_until_serving(process, port)
        # Warm both (imports, connection pools), then measure each on fresh invitations.
        forms = {"surveys": form_of_page(surveys_port, tokens[0]),
                 "minimal_insert": Form(urlencode(ANSWERS))}
        post_all(baseline_port, baseline_tokens[:size.warmup], forms["minimal_insert"],
                 size.concurrency)
        post_all(surveys_port, tokens[:size.warmup], forms["surveys"], size.concurrency)
        measured, round_ratios = load_in_rounds(ports, {"surveys": tokens[size.warmup:],
                                          "minimal_insert": baseline_tokens[size.warmup:]},
                                  forms, size)
        ours, baseline = measured["surveys"], measured["minimal_insert"]
        with psycopg.connect(url.replace("+psycopg", "")) as check:
            # Only surveys' endpoint saves answers; the baseline saves the bare row.
            saved = check.execute(
                "SELECT count(DISTINCT response_id) FROM answers").fetchone()[0]
        if saved != total:
            raise RuntimeError(f"{saved} of {total} responses saved with answers")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker stuck in a request: measured already
                process.kill()
                process.wait()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    # The median round: one slow spell of the machine moves it less than the overall rate.
    ratio = round(statistics.median(round_ratios), 3)
    print_result(
        "ingest",
        {"surveys": ours, "minimal_insert": baseline, "requests": size.requests,
         "round_ratios": round_ratios,
         "concurrency": size.concurrency, "rounds": size.rounds,
         "gunicorn_workers": size.gunicorn_workers,
         "database": "postgresql"},
        ratio=ratio,
        goal="surveys >= 0.8 x the minimal INSERT endpoint's responses/s (median round), "
             "p99 < 100 ms",
        met=ratio >= 0.8 and ours["p99_ms"] < 100, quick=quick)


if __name__ == "__main__":
    main()
