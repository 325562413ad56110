"""Staff console pages: every GET page of the console, signed in, under gunicorn on PostgreSQL.

The demo data goes in as `make up` loads it (scripts/up.sh): each service's migrations, panel's
synthetic members, `flask --app services.surveys demo seed` (three agencies and the joint survey
in fieldwork), the bus carrying the launch on until panel has drawn the sample and surveys has
made the invitations. On top of it, as staff would, through the API: the council's draft (so
the builder's pages have a survey to show), the health trust's naming the council as sponsor
and its request to join the council's draft (an invitation and a request to show), and one
staff user of the council per role (`users add`), each signed in by following the link
`users sign-in-link` prints (its page, then its button), which gives the `civicpanel_staff`
cookie the three services share.

The three services run under gunicorn (deploy/gunicorn.conf.py, sync workers). The pages are
found in the services' own routes, not listed here: every GET rule whose view is a
`@staff_page`, its path filled from the data (surveys, builder sections, question codes, join
requests) or from the links the pages already found show (the fieldwork charts, and pages
added later); each is fetched as one signed-in role it is for (the officer where it may), with
the first filling that answers 200, and a rule taking a survey once per survey that has it
(the demo survey in fieldwork, the drafts). Rules that answer nothing but 404 (or another
refusal) on this data, or that no value fills, are listed in `figures.not_fetched` with why.

Then every page, and each service's /healthz as the baseline, is fetched `fetches` times by a
few concurrent clients, the fetches of all pages interleaved so a slow spell of the machine
falls on all alike. Any answer but 200 stops the bench, naming the page. The goal is each page's
p95 under 300 ms; the ratio reported is the slowest page's p95 over /healthz's p95 in the same
run (the three services' health checks together: one query to the database and a Redis ping
each), i.e. how many bare round trips through gunicorn, Flask, the database and Redis the
slowest page costs.
Run as `.venv/bin/python bench/console.py [--quick]`; prints one JSON line. Sized by
CONSOLE_FETCHES, CONSOLE_CONCURRENCY and CONSOLE_MEMBERS; --quick fetches each page 10 times
with 300 members and one gunicorn worker per service.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_admin_url, print_result, quick_requested  # noqa: E402
from shared.messages import ROLES  # noqa: E402

SERVICES = ("panel", "surveys", "feedback")
AGENCY = "council"  # the demo survey's lead agency
GOAL_MS = 300
# Fillings tried per rule before it is listed as not fetched.
MAX_TRIES = 8
LINK = re.compile(r'(?:href|src|action)="([^"#?]+)')
COOKIE = "civicpanel_staff"


@dataclass(frozen=True)
class Size:
    fetches: int  # measured, of each page
    warmup: int  # rounds of every page before measuring (each gunicorn worker compiles its own)
    concurrency: int
    members: int
    gunicorn_workers: int  # of each service

    @classmethod
    def full(cls) -> Size:
        return cls(fetches=int(os.environ.get("CONSOLE_FETCHES", "100")), warmup=2,
                   concurrency=int(os.environ.get("CONSOLE_CONCURRENCY", "4")),
                   members=int(os.environ.get("CONSOLE_MEMBERS", "2000")), gunicorn_workers=2)

    @classmethod
    def quick(cls) -> Size:
        return cls(fetches=10, warmup=1, concurrency=4, members=300, gunicorn_workers=1)


@dataclass(frozen=True)
class Page:
    service: str
    path: str
    role: str
    rule: str  # the route it fills, e.g. /surveys/<int:survey_id>/build

    @property
    def name(self) -> str:
        return f"{self.service} {self.path}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, cookie: str) -> tuple[int, str, float]:
    """One GET as a browser sends it (a connection of its own): status, body, seconds."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, body.decode(errors="replace"), time.perf_counter() - started


def cli(app, *args: str) -> str:
    """One of the service's `flask` commands, run in this process."""
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exit_code != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.output}\n{result.exception}")
    return result.output


def load_demo(apps: dict, pump, members: int) -> dict[str, str]:
    """The demo data as `make up` loads it, the drafts staff start on top, and a staff user of
    the council per role: the sign-in link of each role."""
    for name in SERVICES:
        cli(apps[name], "db", "upgrade")
    cli(apps["panel"], "demo", "members", "--count", str(members))
    seeded = cli(apps["surveys"], "demo", "seed")
    pump()  # panel draws the sample, surveys makes the invitations, panel sends them
    start_drafts(apps["surveys"], {agency: re.search(rf"{agency} officer\s+(\S+)", seeded).group(1)
                                   for agency in ("council", "health")})
    links = {}
    for role in ROLES:
        email = f"{role.replace('_', '.')}@{AGENCY}.example.gov.uk"
        cli(apps["surveys"], "users", "add", email, "--name", role.replace("_", " ").title(),
            "--agency", AGENCY, "--role", role)
        links[role] = cli(apps["surveys"], "users", "sign-in-link", email).strip()
    pump()
    return links


def start_drafts(app, keys: dict[str, str]) -> None:
    """Through the API, as the agencies' officers: the council's draft co-sponsored with the
    police (for the builder's pages), the health trust's naming the council (an invitation to
    answer) and the health trust asking to join the council's (a request to decide)."""
    from tests.scenario import bearer, survey_payload

    client = app.test_client()

    def call(path: str, key: str, body: dict) -> dict:
        answer = client.post(path, headers=bearer(keys[key]), json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"POST {path} as the {key} officer answered "
                               f"{answer.status_code}: {answer.json}")
        return answer.json

    draft = call("/api/v1/surveys", "council", survey_payload(
        sponsors=(("council", "60.00"), ("police", "40.00")), sample_size=200,
        channels=["web", "sms_link"]))
    call("/api/v1/surveys", "health", survey_payload(
        sponsors=(("health", "50.00"), ("council", "50.00")), sample_size=200,
        title="Late-night health services in the town centre"))
    call(f"/api/v1/surveys/{draft['id']}/join-requests", "health",
         {"message": "Our late-night services cover the same streets."})


def sign_in(port: int, link: str) -> str:
    """Follow a sign-in link as a browser does (its page, then its button): the cookie."""
    parts = urlsplit(link)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, body=urlencode(hidden), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={m.value}" for k, m in jar.items())})
    response = connection.getresponse()
    response.read()
    connection.close()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    if response.status != 303 or COOKIE not in jar:
        raise RuntimeError(f"signing in by {path} answered {response.status}, no staff cookie")
    return f"{COOKIE}={jar[COOKIE].value}"


def known_values(apps: dict) -> list[dict[str, list]]:
    """Values of the route arguments from the data, survey by survey (the one in fieldwork
    first): its id, its question codes and join requests, and the builder's sections."""
    from sqlalchemy import select

    from services.surveys.builder_forms import SECTION_CHANGES
    from services.surveys.models import JoinRequest, Question, Survey
    from shared.db import new_session

    with apps["surveys"].app_context(), new_session() as session:
        surveys = session.scalars(select(Survey).order_by(Survey.launched_at.is_(None),
                                                          Survey.id)).all()
        return [{"survey_id": [survey.id], "section": list(SECTION_CHANGES),
                 "code": list(session.scalars(select(Question.code)
                                              .where(Question.survey_id == survey.id)
                                              .order_by(Question.position))),
                 "request_id": list(session.scalars(select(JoinRequest.id)
                                                    .where(JoinRequest.survey_id == survey.id)
                                                    .order_by(JoinRequest.id)))}
                for survey in surveys]


def staff_rules(app) -> list:
    """The service's console pages: GET rules whose view is a @staff_page."""
    rules = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        # API methods carry required_roles too; they answer keys, not the console's cookie.
        if "GET" in rule.methods and hasattr(view, "required_roles") \
                and not rule.rule.startswith("/api/"):
            rules.append((rule, view.required_roles))
    return sorted(rules, key=lambda found: found[0].rule)


def fillings(rule, known: list[dict[str, list]], seen: list[str]) -> list[list[str]]:
    """Paths of this rule in groups, one page to be fetched of each: those the data fills,
    survey by survey, then those the pages found link to."""
    groups, used = [], set()
    arguments = sorted(rule.arguments)
    for values in known:
        if not all(argument in values for argument in arguments):
            continue
        paths = []
        for chosen in itertools.product(*(values[argument] for argument in arguments)):
            try:
                path = rule.build(dict(zip(arguments, chosen, strict=True)),
                                  append_unknown=False)[1]
            except Exception:  # noqa: BLE001, S112 - a value this rule's converter refuses
                continue
            if path not in used:
                used.add(path)
                paths.append(path)
        if paths:
            groups.append(paths[:MAX_TRIES])
    unseen = [path for path in seen if path not in used]
    return groups + ([unseen[:MAX_TRIES]] if unseen else [])


def harvest(apps: dict, ports: dict[str, int], page: Page, body: str,
            seen: dict[tuple[str, str], list[str]]) -> None:
    """Record the links and sources of a page that lead to another service's staff page."""
    by_port = {str(port): name for name, port in ports.items()}
    for link in LINK.findall(body):
        parts = urlsplit(link)
        service = by_port.get(str(parts.port)) if parts.netloc else page.service
        if service is None:
            continue
        try:
            endpoint, _ = apps[service].url_map.bind("127.0.0.1").match(parts.path, method="GET")
        except Exception:  # noqa: BLE001, S112 - not one of the service's pages
            continue
        found = seen.setdefault((service, endpoint), [])
        if parts.path not in found:
            found.append(parts.path)


def discover(apps: dict, ports: dict[str, int],
             cookies: dict[str, str]) -> tuple[list[Page], dict[str, str]]:
    """Every console page there is on this data (of a rule taking a survey, one page per
    survey that has it), and why the other rules are not fetched."""
    known = known_values(apps)
    seen: dict[tuple[str, str], list[str]] = {}
    pages: list[Page] = []
    tried: dict[tuple[str, str], str] = {}
    rules = [(name, rule, roles) for name in SERVICES for rule, roles in staff_rules(apps[name])]
    # Rules filled by links need the pages that show those links first: pass after pass.
    for _ in range(4):
        progress = False
        for name, rule, roles in rules:
            key = (name, rule.rule)
            if tried.get(key) == "fetched":
                continue
            # The officer where the page is theirs, else the first role it is for.
            role = "officer" if not roles or "officer" in roles else roles[0]
            groups = fillings(rule, known, seen.get((name, rule.endpoint), []))
            if not groups:
                tried[key] = "no value fills " + ", ".join(sorted(rule.arguments))
                continue
            found, answers = [], []
            for paths in groups:
                page = first_page(apps, ports, Page(name, "", role, rule.rule), paths,
                                  cookies[role], seen, answers)
                if page is not None:
                    found.append(page)
            if found:
                pages += found
                tried[key] = "fetched"
                progress = True
            else:
                tried[key] = f"as {role}: " + "; ".join(answers)
        if not progress:
            break
    not_fetched = {f"{name} {rule}": why for (name, rule), why in tried.items()
                   if why != "fetched"}
    return pages, not_fetched


def first_page(apps: dict, ports: dict[str, int], rule_page: Page, paths: list[str],
               cookie: str, seen: dict, answers: list[str]) -> Page | None:
    """The first of these paths answering 200 (its links harvested); the others' answers are
    added to `answers`. A server error stops the bench."""
    for path in paths:
        status, body, _ = get(ports[rule_page.service], path, cookie)
        if status >= 500:
            raise RuntimeError(f"{rule_page.service} {path} as {rule_page.role} answered "
                               f"{status}")
        if status == 200:
            page = Page(rule_page.service, path, rule_page.role, rule_page.rule)
            harvest(apps, ports, page, body, seen)
            return page
        answers.append(f"{path} {status}")
    return None


def fetch_all(jobs: list[tuple[Page, str]], ports: dict[str, int],
              concurrency: int) -> dict[str, list[float]]:
    """Fetch each (page, cookie) job with `concurrency` clients: each page's latencies."""
    latencies: dict[str, list[float]] = {}
    lock = threading.Lock()
    cursor = iter(jobs)
    failures: list[Exception] = []

    def client():
        try:
            while not failures:
                with lock:
                    job = next(cursor, None)
                if job is None:
                    return
                page, cookie = job
                status, _, seconds = get(ports[page.service], page.path, cookie)
                if status != 200:
                    raise RuntimeError(f"{page.name} as {page.role} answered {status}")
                with lock:
                    latencies.setdefault(page.name, []).append(seconds)
        except Exception as failure:  # noqa: BLE001 - raised again below, in the main thread
            failures.append(failure)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * share)) - 1)]


def figures_of(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 1)}


def start_gunicorn(name: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    """The service's web process as deployed; its log in a file (a pipe nobody reads while
    the bench runs could fill and stall it), read back if it ends early."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
         f"services.{name}:create_app()"],
        cwd=ROOT, env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)},
        stdout=subprocess.DEVNULL, stderr=log)
    process.log = log
    return process


def wait_until_serving(process: subprocess.Popen, port: int) -> None:
    """Until /healthz answers 200: the master binds the port before a worker has the app."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz", "")[0] == 200:
                return
        except OSError:
            pass
        if process.poll() is not None:
            log = process.log
            log.seek(0)
            raise RuntimeError(f"gunicorn on port {port} ended:\n{log.read().decode()[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn on port {port} did not answer /healthz")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def demo_served(members: int, gunicorn_workers: int, name: str,
                extra=None) -> Iterator[tuple[dict, dict[str, int], dict[str, str]]]:
    """The three services under gunicorn on fresh PostgreSQL databases and a private Redis,
    with the demo data (and whatever `extra(apps)` adds to it before they serve): the apps,
    their ports and each role's signed-in cookie. Everything is dropped afterwards."""
    admin_url = postgres_admin_url()
    from redis import Redis

    from tests.fakes.redis_server import PrivateRedis
    from tests.pump import Pump

    logging.getLogger("rq").setLevel(logging.WARNING)  # the pump's workers, job by job
    suffix = uuid.uuid4().hex[:8]
    names = {service: f"civicpanel_bench_{name}_{service}_{suffix}" for service in SERVICES}
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for database in names.values():
            admin.execute(f'CREATE DATABASE "{database}"')
    redis = PrivateRedis().start()
    processes: list[subprocess.Popen] = []
    apps: dict = {}
    try:
        ports = {service: free_port() for service in SERVICES}
        env = {**os.environ, "REDIS_URL": redis.url, "SECRET_KEY": "bench-" + "x" * 32,
               "CIVICPANEL_ENV": "development", "BIND_HOST": "127.0.0.1",
               "GUNICORN_LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT)}
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = f"{base}/{names[service]}"
            env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{ports[service]}"
        os.environ.update(env)
        from services import feedback, panel, surveys

        # The web processes start (imports, apps) while the demo data goes in.
        for service in SERVICES:
            processes.append(start_gunicorn(service, ports[service], env, gunicorn_workers))
        apps = {"panel": panel.create_app(), "surveys": surveys.create_app(),
                "feedback": feedback.create_app()}
        links = load_demo(apps, Pump(apps, Redis.from_url(redis.url)), members)
        if extra is not None:
            extra(apps)
        for process, port in zip(processes, ports.values(), strict=True):
            wait_until_serving(process, port)
        yield apps, ports, {role: sign_in(ports["surveys"], link) for role, link in links.items()}
    finally:
        stop(processes)
        for app in apps.values():
            app.extensions["database"].engine.dispose()
        redis.stop()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for database in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def measure(pages: list[Page], ports: dict[str, int], cookies: dict[str, str], *,
            warmup: int, fetches: int, concurrency: int) -> tuple[dict, list[Page]]:
    """Every page and each service's /healthz: warmed on every worker, then fetched
    `fetches` times, all interleaved in a fresh order each round; latencies by page name."""
    health = [Page(name, "/healthz", "none", "/healthz") for name in SERVICES]
    fetch_all([(page, cookies.get(page.role, "")) for page in pages + health] * warmup,
              ports, concurrency)
    rounds = []
    for _ in range(fetches):
        one = pages + health
        random.shuffle(one)
        rounds += one
    return fetch_all([(page, cookies.get(page.role, "")) for page in rounds],
                     ports, concurrency), health


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    clock = time.perf_counter()
    with demo_served(size.members, size.gunicorn_workers, "console") as (apps, ports, cookies):
        timings = {"load_s": time.perf_counter() - clock}
        pages, not_fetched = discover(apps, ports, cookies)
        if not pages:
            raise RuntimeError(f"no console page answered 200: {not_fetched}")
        timings["discover_s"] = time.perf_counter() - clock - sum(timings.values())
        latencies, health = measure(pages, ports, cookies, warmup=size.warmup,
                                    fetches=size.fetches, concurrency=size.concurrency)
        timings["measure_s"] = time.perf_counter() - clock - sum(timings.values())
    measured = {page.name: {"role": page.role, "route": page.rule,
                            **figures_of(latencies[page.name])} for page in pages}
    healthz = figures_of([s for page in health for s in latencies[page.name]])
    slowest = max(measured, key=lambda name: measured[name]["p95_ms"])
    worst = measured[slowest]["p95_ms"]
    print_result(
        "console",
        {"pages": measured, "healthz": healthz, "slowest_page": slowest,
         "slowest_p95_ms": worst, "pages_fetched": len(measured),
         "not_fetched": not_fetched, "fetches_per_page": size.fetches,
         "concurrency": size.concurrency, "members": size.members,
         "gunicorn_workers": size.gunicorn_workers, "database": "postgresql",
         "seconds": {name: round(value, 1) for name, value in timings.items()}},
        ratio=round(worst / healthz["p95_ms"], 2),
        goal=f"every console page's p95 < {GOAL_MS} ms, signed in, with the demo data "
             "(ratio: the slowest page's p95 over /healthz's)",
        met=all(page["p95_ms"] < GOAL_MS for page in measured.values()), quick=quick)


if __name__ == "__main__":
    main()
