"""Benchmark: raking a million respondents; a weighted table of a million responses in PostgreSQL.

Run as `.venv/bin/python bench/weighting.py [--quick]`; prints one JSON line. The raking is
timed beside a plain numpy reference (respondent-level iterative proportional fitting) in the
same run; the table is read from a database this script creates on the tests' PostgreSQL and
drops: weights and table together, from the analysis cells (counted once, timed apart).
--quick does the same with 20,000 respondents.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import postgres_admin_url, print_result, quick_requested  # noqa: E402
from services.surveys import MIGRATIONS_DIR  # noqa: E402
from services.surveys.analysis import (  # noqa: E402
    refresh_cells,
    survey_weights,
    weighted_table,
)
from services.surveys.models import (  # noqa: E402
    Agency,
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
    SurveySponsor,
)
from services.surveys.tables import published_table  # noqa: E402
from services.surveys.weighting import rake  # noqa: E402
from shared.db import make_engine, upgrade_database  # noqa: E402
from shared.profile import AGE_BANDS, ETHNICITIES, GENDERS  # noqa: E402

FULL_RESPONDENTS = 1_000_000
QUICK_RESPONDENTS = 20_000
AGES = AGE_BANDS[:6]
AREAS = [f"E0500{1000 + k}" for k in range(20)]
OPTIONS = ["Street lighting", "Police patrols", "Welfare services", "CCTV"]


def sample(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A panel skewed as panels are: older, more women, fewer minority groups."""
    return {
        "age_band": rng.choice(6, n, p=[0.05, 0.10, 0.15, 0.20, 0.25, 0.25]),
        "gender": rng.choice(3, n, p=[0.58, 0.41, 0.01]),
        "ethnicity": rng.choice(5, n, p=[0.06, 0.03, 0.02, 0.87, 0.02]),
        "area": rng.choice(20, n, p=np.linspace(1, 3, 20) / np.linspace(1, 3, 20).sum()),
    }


MARGINS = {
    "age_band": [150.0, 180.0, 170.0, 170.0, 160.0, 170.0],
    "gender": [505.0, 490.0, 5.0],
    "ethnicity": [90.0, 40.0, 30.0, 820.0, 20.0],
    "area": [1000.0 + 50 * k for k in range(20)],
}


def reference_rake(codes: dict[str, np.ndarray], margins: dict[str, list[float]],
                   tolerance: float = 1e-6, max_iterations: int = 1000) -> tuple[np.ndarray, int]:
    """Plain respondent-level raking with numpy: the baseline."""
    n = len(next(iter(codes.values())))
    weights = np.ones(n)
    targets = {d: np.array(m) / sum(m) * n for d, m in margins.items()}
    for iteration in range(1, max_iterations + 1):
        for d, c in codes.items():
            reached = np.bincount(c, weights=weights, minlength=targets[d].size)
            weights *= (targets[d] / reached)[c]
        error = max(np.max(np.abs(np.bincount(c, weights=weights, minlength=targets[d].size)
                                  - targets[d]) / targets[d]) for d, c in codes.items())
        if error <= tolerance:
            return weights, iteration
    return weights, max_iterations


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_raking(respondents: int) -> dict:
    codes = sample(np.random.default_rng(2021), respondents)
    ours_s, ours = best_of(5, lambda: rake(codes, MARGINS, cap=None))
    capped_s, capped = best_of(5, lambda: rake(codes, MARGINS))
    reference_s, (reference, iterations) = best_of(3, lambda: reference_rake(codes, MARGINS))
    assert ours.converged and capped.converged
    return {
        "raking_ms": round(ours_s * 1000, 2),
        "raking_capped_ms": round(capped_s * 1000, 2),
        "reference_ms": round(reference_s * 1000, 2),
        "iterations": ours.iterations, "reference_iterations": iterations,
        "max_weight_difference": float(np.max(np.abs(ours.weights - reference))),
        "design_effect": round(ours.design_effect, 4),
    }


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def copy_rows(cursor, table: str, template: dict, columns: list[str], lines) -> None:
    """COPY rows into a table: `lines` give `columns` tab-separated, the template row the
    rest, so the load keeps working whatever columns other work adds to the table."""
    fixed = [c for c in template if c != "id" and c not in columns]
    tail = "".join("\t" + _text(template[c]) for c in fixed) + "\n"
    with cursor.copy(f"COPY {table} ({', '.join(columns + fixed)}) FROM STDIN") as copy:
        lines = iter(lines)
        while chunk := list(itertools.islice(lines, 100_000)):
            copy.write(tail.join(chunk) + tail)


def template_rows(session: Session, survey: Survey) -> dict[str, dict]:
    """One invitation, response and answer of the survey as the ORM writes them (every column
    filled as the models default it), taken out again: the rows COPY repeats."""
    invitation = Invitation(survey_id=survey.id, member_ref="template", token="template",
                            channel="email", profile={})
    session.add(invitation)
    session.flush()
    response = Response(survey_id=survey.id, invitation_id=invitation.id)
    session.add(response)
    session.flush()
    answer = Answer(response_id=response.id, question_id=survey.questions[0].id, value="")
    session.add(answer)
    session.flush()
    templates = {}
    for model, row in ((Invitation, invitation), (Response, response), (Answer, answer)):
        table = model.__table__
        templates[table.name] = dict(session.execute(
            table.select().where(table.c.id == row.id)).mappings().one())
    for row in (answer, response, invitation):
        session.delete(row)
        session.flush()
    return templates


def load_responses(engine, respondents: int) -> int:
    """The respondents of one survey, one answer each, copied in with COPY."""
    rng = np.random.default_rng(7)
    codes = sample(rng, respondents)
    answers = rng.choice(len(OPTIONS), respondents, p=[0.4, 0.3, 0.2, 0.1])
    with Session(engine) as session:
        session.add(Agency(slug="council", name="Council"))
        survey = Survey(title="Bench", lead_agency="council", sample_size=respondents,
                        status="closed",
                        sponsors=[SurveySponsor(agency="council", cost_share=100)],
                        questions=[Question(position=0, code="priority", type="single_choice",
                                            text="Priority?", options=OPTIONS)])
        session.add(survey)
        session.flush()
        templates = template_rows(session, survey)
        survey_id, question_id = survey.id, survey.questions[0].id
        session.commit()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # Foreign keys are checked by triggers, a row at a time; the rows are consistent.
        cursor.execute("SET session_replication_role = replica")
        # One JSON text per profile cell, picked by each respondent's cell index.
        cells = np.ravel_multi_index([codes[d] for d in ("age_band", "gender", "ethnicity",
                                                         "area")], (6, 3, 5, 20))
        profiles = [json.dumps({"age_band": AGES[a], "gender": GENDERS[g],
                                "ethnicity": ETHNICITIES[e], "disability": "not_disabled",
                                "area": AREAS[r]})
                    for a, g, e, r in zip(*np.unravel_index(np.arange(1800), (6, 3, 5, 20)),
                                          strict=True)]
        copy_rows(cursor, "invitations", templates["invitations"],
                   ["id", "member_ref", "token", "profile"],
                   (f"{i + 1}\t{uuid.UUID(int=i)}\tt{i}\t{profiles[c]}"
                    for i, c in enumerate(cells.tolist())))
        copy_rows(cursor, "responses", templates["responses"], ["id", "invitation_id"],
                   (f"{i}\t{i}" for i in range(1, respondents + 1)))
        copy_rows(cursor, "answers", templates["answers"],
                   ["response_id", "question_id", "value"],
                   (f"{i + 1}\t{question_id}\t{OPTIONS[a]}"
                    for i, a in enumerate(answers.tolist())))
        population = []
        for k, area in enumerate(AREAS):
            scale = MARGINS["area"][k] / sum(MARGINS["area"])
            for dimension, names in (("age_band", AGES), ("gender", GENDERS),
                                     ("ethnicity", ETHNICITIES)):
                total = sum(MARGINS[dimension])
                population += [{"vintage": "2021", "area": area, "dimension": dimension,
                                "category": category,
                                "population": round(value / total * scale * 1e6, 2)}
                               for category, value in zip(names, MARGINS[dimension],
                                                          strict=True)]
        copy_rows(cursor, "population_targets", {},
                   ["vintage", "area", "dimension", "category", "population"],
                   ("\t".join(_text(p[c]) for c in ("vintage", "area", "dimension", "category",
                                                      "population")) for p in population))
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return survey_id


def bench_table(respondents: int) -> dict:
    admin_url = postgres_admin_url()
    name = f"civicpanel_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    engine = None
    try:
        upgrade_database(url.replace("postgresql://", "postgresql+psycopg://"), MIGRATIONS_DIR)
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        load_start = time.perf_counter()
        survey_id = load_responses(engine, respondents)
        load_s = time.perf_counter() - load_start

        # Counting the responses into profile cells happens once per new response
        # batch; tables then read the cells. Both are timed.
        with Session(engine) as session:
            cells_start = time.perf_counter()
            refresh_cells(session, [survey_id])
            session.commit()
            cells_s = time.perf_counter() - cells_start

        def table():
            with Session(engine) as session:
                survey = session.get(Survey, survey_id)
                weights = {survey_id: survey_weights(session, survey)}
                built = weighted_table(session, [survey], weights, question="priority",
                                       by="age_band")
                return weights[survey_id], published_table(built, 10)

        table_s, (weights, published) = best_of(3, table)
        assert weights.usable, weights.reason
        assert published["bases"][-1]["base"] == respondents
        return {"table_ms": round(table_s * 1000, 1), "cells_build_s": round(cells_s, 1),
                "load_s": round(load_s, 1), "table_weighted": weights.usable,
                "effective_base": published["bases"][-1]["effective_base"]}
    finally:
        if engine is not None:
            engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    quick = quick_requested(__doc__)
    respondents = QUICK_RESPONDENTS if quick else FULL_RESPONDENTS
    figures = {"respondents": respondents, **bench_raking(respondents)}
    figures.update(bench_table(respondents))
    ratio = round(figures["raking_ms"] / figures["reference_ms"], 4)
    print_result(
        "weighting", figures, ratio=ratio,
        goal="raking 1,000,000 respondents (age 6 x gender 3 x ethnicity 5 x area 20) within "
             "2x a plain numpy reference; a weighted table of 1,000,000 responses from "
             "PostgreSQL under 1 s",
        met=ratio <= 2 and figures["table_ms"] < 1000, quick=quick)


if __name__ == "__main__":
    main()
