"""Benchmark of panel's sample draw: the selection step against a plain numpy reference, and a
whole draw from PostgreSQL, on a synthetic panel of 1,000,000 members and 4,000,000 contacts.

Run: .venv/bin/python bench/sample_draw.py  (needs the local PostgreSQL the tests use).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.panel.contact_cap import ContactCap  # noqa: E402
from services.panel.sampling import (  # noqa: E402
    rank_within_cells,
    reference_rank_within_cells,
)

MEMBERS = 1_000_000
EVENTS = 4_000_000
DRAWN = 2_000
AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74")  # x 20 wards = 120 cells
WARDS = tuple(f"E0500{code:04d}" for code in range(1001, 1021))
ADMIN_URL = os.environ.get("CIVICPANEL_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
REPEATS = 5
DRAW_REPEATS = 3


def targets_for(cells: int, total: int) -> np.ndarray:
    base = np.full(cells, total // cells)
    base[: total - base.sum()] += 1
    return base


def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def selection_figures() -> dict:
    """The pure step: 1M candidates (those under the cap), 120 cells, 2,000 wanted."""
    rng = np.random.default_rng(2026)
    ids = np.arange(1, MEMBERS + 1, dtype=np.int64)
    cell = rng.integers(0, 140, MEMBERS).astype(np.int32)  # 7 bands x 20 wards; 75+ has no quota
    cell[cell >= 120] = -1
    today = (datetime.now(UTC).date() - datetime(1970, 1, 1).date()).days
    recency = np.where(rng.random(MEMBERS) < 0.25, 0, today - rng.integers(0, 365, MEMBERS))
    free = recency < today - 14  # those contacted in the last 14 days are resting
    cell = np.where(free | (recency == 0), cell, -1).astype(np.int32)
    wanted = targets_for(120, DRAWN)
    ours, ranked = best_of(lambda: rank_within_cells(cell, recency, ids, wanted, seed=7))
    reference, ref_ranked = best_of(
        lambda: reference_rank_within_cells(cell, recency, ids, wanted, seed=7))
    assert sum(len(r) for r in ranked) == DRAWN == sum(len(r) for r in ref_ranked)
    return {"selection_seconds": round(ours, 4), "reference_seconds": round(reference, 4)}


def build_database(url: str) -> None:
    from services import panel
    from shared.db import upgrade_database

    upgrade_database(url, panel.MIGRATIONS_DIR)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    ages = "ARRAY[" + ",".join(f"'{a}'" for a in (*AGE_BANDS, "75+")) + "]"
    wards = "ARRAY[" + ",".join(f"'{w}'" for w in WARDS) + "]"
    cap = ContactCap()
    with psycopg.connect(plain, autocommit=True) as conn:
        # Bulk load: foreign-key triggers off and secondary indexes built once at the end,
        # rather than maintained row by row (minutes on a shared 2-core machine).
        conn.execute("SET session_replication_role = replica")
        rebuild = []
        for table in ("members", "contact_events"):
            for name, definition in conn.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'u'", (table,)).fetchall():
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for name, definition in conn.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                    "AND indexname NOT LIKE '%%pkey'", (table,)).fetchall():
                conn.execute(f'DROP INDEX "{name}"')
                rebuild.append(definition)
        conn.execute("SELECT setseed(0.2026)")
        conn.execute(f"""
            INSERT INTO contact_events (member_id, survey_id, draw_id, sponsors, cell,
                                        contacted_at)
            SELECT 1 + floor(random() * {MEMBERS})::int, 1 + floor(random() * 2000)::int,
                   'history', 'council', '', now() - random() * interval '365 days'
            FROM generate_series(1, {EVENTS})""")
        # Each member's cap columns, as panel keeps them when it reserves an invitation.
        conn.execute(f"""
            INSERT INTO members (id, member_ref, email, preferred_channel, language, age_band,
                gender, ethnicity, disability, area, extra, status, source, consent_surveys,
                consent_outcomes, consent_recontact, joined_at, last_contacted_at, cap_free_at)
            WITH recent AS (
                SELECT member_id, contacted_at, row_number() OVER (
                    PARTITION BY member_id ORDER BY contacted_at DESC) AS rn
                FROM contact_events WHERE contacted_at > now() - interval '{cap.window.days} days'
            ), nth AS (
                SELECT member_id, max(contacted_at) FILTER (WHERE rn = {cap.invitations}) AS nth
                FROM recent GROUP BY member_id
            ), latest AS (
                SELECT member_id, max(contacted_at) AS last FROM contact_events GROUP BY member_id
            )
            SELECT i, gen_random_uuid()::text, 'm' || i || '@example.org', 'email', 'en',
                ({ages})[1 + floor(random() * 7)::int],
                (ARRAY['female','male'])[1 + floor(random() * 2)::int], 'white', 'not_disabled',
                ({wards})[1 + floor(random() * 20)::int], '{{}}', 'active', 'bench',
                random() < 0.97, true, false, now() - interval '2 years', latest.last,
                greatest(latest.last + interval '{cap.min_gap.days} days',
                         nth.nth + interval '{cap.window.days} days')
            FROM generate_series(1, {MEMBERS}) AS i
            LEFT JOIN latest ON latest.member_id = i LEFT JOIN nth ON nth.member_id = i""")
        conn.execute(f"SELECT setval('members_id_seq', {MEMBERS})")
        for statement in rebuild:
            conn.execute(statement)
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute("VACUUM ANALYZE members")
        conn.execute("VACUUM ANALYZE contact_events")


def whole_draw_figures(url: str) -> dict:
    from services import panel
    from services.panel.jobs import _draw_sample

    app = panel.create_app({"TESTING": True, "DATABASE_URL": url,
                            "REDIS_URL": "redis://127.0.0.1:1/0", "DELIVERY_BATCH_SIZE": 1000})
    quotas = [{"cell": {"age_band": a, "area": w}, "target": int(t)}
              for (a, w), t in zip([(a, w) for a in AGE_BANDS for w in WARDS],
                                   targets_for(120, DRAWN), strict=True)]
    times, drawn = [], 0
    with app.app_context():
        sessions = app.extensions["database"].sessions
        for repeat in range(DRAW_REPEATS):
            payload = {"survey_id": 100_000 + repeat, "draw_id": "bench", "size": DRAWN,
                       "sponsors": ["council", "police"], "seed": repeat, "quotas": quotas,
                       "proportional_dimensions": [], "filters": {}, "exclude_member_refs": [],
                       "channels": ["email", "sms"], "boost_low_response": False}
            with sessions() as session:
                start = time.perf_counter()
                _draw_sample(session, payload)
                session.flush()
                times.append(time.perf_counter() - start)
                drawn = session.execute(text(
                    "SELECT count(*) FROM contact_events WHERE survey_id = :s"),
                    {"s": 100_000 + repeat}).scalar()
                session.rollback()  # each run draws from the same panel
        # Where the time goes: reading the eligible candidates is most of it.
        from services.panel.draws import load_candidates, quota_cells
        from services.panel.quotas import cell_categories

        with sessions() as session:
            cells = [c["cell"] for c in quota_cells(session, payload)]
            dims = sorted({d for c in cells for d in c})
            start = time.perf_counter()
            load_candidates(session, payload, cells, dims, cell_categories(cells, dims),
                            datetime.now(UTC))
            load = time.perf_counter() - start
    app.extensions["database"].engine.dispose()
    return {"whole_draw_seconds_median": round(statistics.median(times), 3),
            "candidate_load_seconds": round(load, 3),
            "whole_draw_seconds_first": round(times[0], 3), "whole_draw_members": drawn}


def main() -> None:
    figures = selection_figures()
    # BENCH_DATABASE names a database built by an earlier run to keep (for profiling).
    kept = os.environ.get("BENCH_DATABASE")
    name = kept or f"civicpanel_bench_{uuid.uuid4().hex[:8]}"
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        if not exists:
            start = time.perf_counter()
            build_database(f"{base}/{name}")
            figures["build_seconds"] = round(time.perf_counter() - start, 1)
        figures.update(whole_draw_figures(f"{base}/{name}"))
    finally:
        if not kept:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = figures["selection_seconds"] / figures["reference_seconds"]
    met = ratio <= 2.0 and figures["whole_draw_seconds_median"] < 2.0
    print(json.dumps({
        "bench": "sample_draw",
        "figures": {"members": MEMBERS, "contact_events": EVENTS, "drawn": DRAWN, "cells": 120,
                    **figures},
        "ratio": round(ratio, 3),
        "goal": "selection within 2x the one-sort numpy reference; whole draw from PostgreSQL "
                "under 2 s",
        "met": met,
    }))


if __name__ == "__main__":
    main()
