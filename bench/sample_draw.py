"""Benchmark of panel's sample draw: the selection step against a plain numpy reference, and a
whole draw from PostgreSQL, on a synthetic panel of 1,000,000 members and 4,000,000 contacts.

Run: .venv/bin/python bench/sample_draw.py [--quick]  (needs the local PostgreSQL the tests
use); --quick does the same on 20,000 members and 80,000 contacts. BENCH_DATABASE names a
database an earlier full run built, to keep and reuse (for profiling).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import postgres_admin_url, print_result, quick_requested  # noqa: E402
from services.panel.contact_cap import ContactCap  # noqa: E402
from services.panel.sampling import (  # noqa: E402
    rank_within_cells,
    reference_rank_within_cells,
)

AGE_BANDS = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74")  # x 20 wards = 120 cells
WARDS = tuple(f"E0500{code:04d}" for code in range(1001, 1021))


@dataclass(frozen=True)
class Size:
    members: int
    events: int
    drawn: int
    repeats: int  # of the selection step, best taken
    draw_repeats: int  # of the whole draw, median taken


FULL = Size(members=1_000_000, events=4_000_000, drawn=2_000, repeats=5, draw_repeats=5)
QUICK = Size(members=20_000, events=80_000, drawn=2_000, repeats=3, draw_repeats=2)


def targets_for(cells: int, total: int) -> np.ndarray:
    base = np.full(cells, total // cells)
    base[: total - base.sum()] += 1
    return base


def best_of(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def selection_figures(size: Size) -> dict:
    """The pure step: every member a candidate (those under the cap), 120 cells, 2,000 wanted."""
    rng = np.random.default_rng(2026)
    members = size.members
    ids = np.arange(1, members + 1, dtype=np.int64)
    cell = rng.integers(0, 140, members).astype(np.int32)  # 7 bands x 20 wards; 75+ has no quota
    cell[cell >= 120] = -1
    today = (datetime.now(UTC).date() - datetime(1970, 1, 1).date()).days
    recency = np.where(rng.random(members) < 0.25, 0, today - rng.integers(0, 365, members))
    free = recency < today - 14  # those contacted in the last 14 days are resting
    cell = np.where(free | (recency == 0), cell, -1).astype(np.int32)
    wanted = targets_for(120, size.drawn)
    ours, ranked = best_of(lambda: rank_within_cells(cell, recency, ids, wanted, seed=7),
                           size.repeats)
    reference, ref_ranked = best_of(
        lambda: reference_rank_within_cells(cell, recency, ids, wanted, seed=7), size.repeats)
    assert sum(len(r) for r in ranked) == size.drawn == sum(len(r) for r in ref_ranked)
    return {"selection_seconds": round(ours, 4), "reference_seconds": round(reference, 4)}


def build_database(url: str, size: Size) -> None:
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
            SELECT 1 + floor(random() * {size.members})::int, 1 + floor(random() * 2000)::int,
                   'history', 'council', '', now() - random() * interval '365 days'
            FROM generate_series(1, {size.events})""")
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
            FROM generate_series(1, {size.members}) AS i
            LEFT JOIN latest ON latest.member_id = i LEFT JOIN nth ON nth.member_id = i""")
        conn.execute(f"SELECT setval('members_id_seq', {size.members})")
        for statement in rebuild:
            conn.execute(statement)
        conn.execute("SET session_replication_role = DEFAULT")
        # The load ran with triggers off: make the drawable pool as the triggers would have.
        conn.execute("SELECT draw_pool_rebuild()")
        conn.execute("VACUUM ANALYZE members")
        conn.execute("VACUUM ANALYZE contact_events")
        conn.execute("VACUUM ANALYZE draw_pool")


def whole_draw_figures(url: str, size: Size) -> dict:
    from services import panel
    from services.panel.contact_cap import ContactCap as Cap
    from services.panel.draws import keep_draw, next_untold_batch, tell_batch
    from shared.bus import utcnow

    app = panel.create_app({"TESTING": True, "DATABASE_URL": url,
                            "REDIS_URL": "redis://127.0.0.1:1/0", "DELIVERY_BATCH_SIZE": 1000})
    quotas = [{"cell": {"age_band": a, "area": w}, "target": int(t)}
              for (a, w), t in zip([(a, w) for a in AGE_BANDS for w in WARDS],
                                   targets_for(120, size.drawn), strict=True)]
    times, drawn = [], 0
    with app.app_context():
        sessions = app.extensions["database"].sessions
        for repeat in range(size.draw_repeats):
            payload = {"survey_id": 100_000 + repeat, "draw_id": "bench", "size": size.drawn,
                       "sponsors": ["council", "police"], "seed": repeat, "quotas": quotas,
                       "proportional_dimensions": [], "filters": {}, "exclude_member_refs": [],
                       "channels": ["email", "sms"], "boost_low_response": False}
            with sessions() as session:
                start = time.perf_counter()
                # The draw and every batch told to surveys, in one transaction rolled back.
                keep_draw(session, payload, key=f"bench-{repeat}",
                          cap=Cap.from_config(app.config), batch_size=1000, now=utcnow())
                while (batch := next_untold_batch(session, f"bench-{repeat}")) is not None:
                    tell_batch(session, app.extensions["bus"], batch)
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
            "whole_draw_seconds_first": round(times[0], 3),
            "whole_draw_seconds_each": [round(t, 3) for t in times], "whole_draw_members": drawn}


def main() -> None:
    quick = quick_requested(__doc__)
    size = QUICK if quick else FULL
    admin_url = postgres_admin_url()
    figures = selection_figures(size)
    kept = None if quick else os.environ.get("BENCH_DATABASE")
    name = kept or f"civicpanel_bench_{uuid.uuid4().hex[:8]}"
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        if not exists:
            start = time.perf_counter()
            build_database(f"{base}/{name}", size)
            figures["build_seconds"] = round(time.perf_counter() - start, 1)
        figures.update(whole_draw_figures(f"{base}/{name}", size))
    finally:
        if not kept:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = figures["selection_seconds"] / figures["reference_seconds"]
    met = ratio <= 2.0 and figures["whole_draw_seconds_median"] < 2.0
    print_result(
        "sample_draw",
        {"members": size.members, "contact_events": size.events, "drawn": size.drawn,
         "cells": 120, **figures},
        ratio=round(ratio, 3),
        goal="selection within 2x the one-sort numpy reference; whole draw from PostgreSQL "
             "under 2 s",
        met=met, quick=quick)


if __name__ == "__main__":
    main()
