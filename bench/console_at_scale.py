"""The console's heaviest pages at a large panel's size: 100,000 members, 20,000 responses.

The demo data goes in as bench/console.py loads it (`make up`'s), with panel's synthetic
members at 100,000; on top of it surveys gets a closed survey the council and police sponsored
with 20,000 respondents (synthetic profiles like the panel's, one answer each to the demo's
spend-priority question), copied into PostgreSQL with COPY, as bench/weighting.py loads its
respondents. The services run under gunicorn, signed in with the cookie the sign-in link gives.

Measured, each `fetches` times by a few concurrent clients, interleaved with each service's
/healthz: the panel's representativeness (every member counted by dimension against the
population targets), the same for the big survey's respondents, the weighting report and a
weighted table with intervals of the big survey. Goal: each page's p95 under 1 s. The ratio is
the slowest page's p95 over /healthz's in the same run.

Run as `.venv/bin/python bench/console_at_scale.py [--quick]`; prints one JSON line. Sized by
SCALE_MEMBERS, SCALE_RESPONSES and SCALE_FETCHES; --quick uses 300 members, 200 responses
and 3 fetches.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console import Page, demo_served, figures_of, get, measure  # noqa: E402
from bench.harness import print_result, quick_requested  # noqa: E402
from bench.weighting import copy_rows, template_rows  # noqa: E402

GOAL_MS = 1000
QUESTION = "spend_priority"
ANSWERS = ("Better street lighting", "More police patrols",
           "Late-night health and welfare services")


@dataclass(frozen=True)
class Size:
    members: int
    responses: int
    fetches: int
    concurrency: int = 2
    gunicorn_workers: int = 2

    @classmethod
    def full(cls) -> Size:
        return cls(members=int(os.environ.get("SCALE_MEMBERS", "100000")),
                   responses=int(os.environ.get("SCALE_RESPONSES", "20000")),
                   fetches=int(os.environ.get("SCALE_FETCHES", "20")))

    @classmethod
    def quick(cls) -> Size:
        return cls(members=300, responses=200, fetches=3, gunicorn_workers=1)


def respondents(panel_app, count: int) -> list[tuple[str, dict]]:
    """`count` of the panel's members, spread over it: each one's ref and profile as an
    invitation carries it."""
    from sqlalchemy import select

    from services.panel.models import Member
    from shared.db import new_session
    from shared.profile import PROFILE_DIMENSIONS

    columns = [getattr(Member, dimension) for dimension in PROFILE_DIMENSIONS]
    with panel_app.app_context(), new_session() as session:
        rows = session.execute(select(Member.member_ref, *columns).order_by(Member.id)).all()
    chosen = random.Random(2).sample(rows, min(count, len(rows)))
    return [(str(row[0]), dict(zip(PROFILE_DIMENSIONS, row[1:], strict=True)))
            for row in chosen]


def tell_panel(panel_app, survey_id: int, refs: list[str]) -> None:
    """What surveys' close tells panel of the survey (panel.survey_respondents), stored."""
    from services.panel.models import SurveyRespondents
    from shared.bus import utcnow
    from shared.db import new_session

    with panel_app.app_context(), new_session() as session:
        session.add(SurveyRespondents(
            survey_id=survey_id, title="Town centre priorities at scale",
            sponsors=["council", "police"], closed_at=utcnow(), member_refs=refs,
            sponsor_names={"council": "Riverside Council", "police": "Riverside Police"}))
        session.commit()


def add_big_survey(apps: dict, responses: int) -> int:
    """A closed survey of the council and police answered by `responses` of the panel's
    members, known to surveys and to panel as at its close: its id."""
    app = apps["surveys"]
    people = respondents(apps["panel"], responses)
    responses = len(people)
    from services.surveys.models import Question, Survey, SurveySponsor
    from shared.db import new_session

    with app.app_context():
        with new_session() as session:
            survey = Survey(
                title="Town centre priorities at scale", lead_agency="council",
                sample_size=responses, status="closed",
                sponsors=[SurveySponsor(agency="council", cost_share=60),
                          SurveySponsor(agency="police", cost_share=40)],
                questions=[Question(position=0, code=QUESTION, type="single_choice",
                                    text="What should the partnership spend most on?",
                                    options=list(ANSWERS))])
            session.add(survey)
            session.flush()
            templates = template_rows(session, survey)
            survey_id, question_id = survey.id, survey.questions[0].id
            session.commit()
        engine = app.extensions["database"].engine
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT coalesce(max(id), 0) FROM invitations")
            first_invitation = cursor.fetchone()[0] + 1
            cursor.execute("SELECT coalesce(max(id), 0) FROM responses")
            first_response = cursor.fetchone()[0] + 1
            rng = random.Random(5)
            copy_rows(cursor, "invitations", templates["invitations"],
                      ["id", "survey_id", "member_ref", "token", "profile"],
                      (f"{first_invitation + i}\t{survey_id}\t{ref}\tscale{i}\t"
                       f"{json.dumps(profile)}" for i, (ref, profile) in enumerate(people)))
            copy_rows(cursor, "responses", templates["responses"],
                      ["id", "survey_id", "invitation_id"],
                      (f"{first_response + i}\t{survey_id}\t{first_invitation + i}"
                       for i in range(responses)))
            copy_rows(cursor, "answers", templates["answers"],
                      ["response_id", "question_id", "value"],
                      (f"{first_response + i}\t{question_id}\t"
                       f"{rng.choices(ANSWERS, weights=(5, 3, 2))[0]}"
                       for i in range(responses)))
            for table in ("invitations", "responses", "answers"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
                cursor.execute(f"ANALYZE {table}")
            raw.commit()
        finally:
            raw.close()
    tell_panel(apps["panel"], survey_id, [ref for ref, _ in people])
    return survey_id


def scale_pages(survey_id: int, ports: dict[str, int], cookies: dict[str, str]) -> list[Page]:
    """The heavy pages, each found answering 200 before it is measured."""
    query = f"survey_ids={survey_id}&dimensions=age_band&dimensions=gender&dimensions=area"
    pages = [Page("panel", "/panel/representativeness", "panel_manager",
                  "/panel/representativeness"),
             Page("panel", f"/panel/representativeness/respondents?survey={survey_id}",
                  "panel_manager", "/panel/representativeness/respondents"),
             Page("surveys", f"/results/weighting?{query}", "analyst", "/results/weighting"),
             Page("surveys", f"/results/table?{query}&question={QUESTION}&by=age_band",
                  "analyst", "/results/table")]
    found = []
    for page in pages:
        status, body, _ = get(ports[page.service], page.path, cookies[page.role])
        if status == 200:
            found.append(page)
        else:
            raise RuntimeError(f"{page.name} as {page.role} answered {status}")
    return found


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    clock = time.perf_counter()
    big_survey = {}

    def add_responses(apps):
        big_survey["id"] = add_big_survey(apps, size.responses)

    with demo_served(size.members, size.gunicorn_workers, "scale",
                     extra=add_responses) as (_, ports, cookies):
        timings = {"load_s": time.perf_counter() - clock}
        pages = scale_pages(big_survey["id"], ports, cookies)
        latencies, health = measure(pages, ports, cookies, warmup=1, fetches=size.fetches,
                                    concurrency=size.concurrency)
        timings["measure_s"] = time.perf_counter() - clock - timings["load_s"]
    measured = {page.name: {"role": page.role, **figures_of(latencies[page.name])}
                for page in pages}
    healthz = figures_of([s for page in health for s in latencies[page.name]])
    worst = max(page["p95_ms"] for page in measured.values())
    print_result(
        "console_at_scale",
        {"pages": measured, "healthz": healthz, "members": size.members,
         "responses": size.responses, "fetches_per_page": size.fetches,
         "concurrency": size.concurrency, "gunicorn_workers": size.gunicorn_workers,
         "database": "postgresql",
         "seconds": {name: round(value, 1) for name, value in timings.items()}},
        ratio=round(worst / healthz["p95_ms"], 2),
        goal=f"representativeness and table pages' p95 < {GOAL_MS} ms with "
             f"{size.members:,} members and {size.responses:,} responses "
             "(ratio: the slowest page's p95 over /healthz's)",
        met=worst < GOAL_MS, quick=quick)


if __name__ == "__main__":
    main()
