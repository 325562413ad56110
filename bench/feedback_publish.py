"""Publishing a "you said, we did" report: the request stays as quick at 50,000 respondents as at
1,000, and the worker's fan-out and the weekly progress pass keep up.

On SQLite in a temporary folder, with the feedback domain functions as the API and the worker
call them (no HTTP, no Redis: messages stop in the outbox, which is where the work ends). The
baseline, in the same run, is publishing a report with 1,000 respondents; the ratio is the
publish time at 50,000 over it. Run as `.venv/bin/python bench/feedback_publish.py [--quick]`;
prints one JSON line. FEEDBACK_BENCH_RESPONDENTS sizes the large report; --quick publishes
2,000 against 200, in batches of 500.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import print_result, quick_requested  # noqa: E402
from services.feedback import MIGRATIONS_DIR, create_app  # noqa: E402
from services.feedback.progress import add_commitment, notify_progress, record_progress  # noqa: E402
from services.feedback.reports import (  # noqa: E402
    Links,
    complete_report,
    draft_report,
    publish_report,
    tell_respondents,
)
from shared.db import new_session, upgrade_database  # noqa: E402

LINKS = Links("http://feedback.bench", "bench-secret")


@dataclass(frozen=True)
class Size:
    large: int  # respondents of the report measured
    small: int  # respondents of the baseline report
    batch: int  # respondents told a batch

    @classmethod
    def full(cls) -> Size:
        return cls(large=int(os.environ.get("FEEDBACK_BENCH_RESPONDENTS", "50000")),
                   small=1000, batch=1000)

    @classmethod
    def quick(cls) -> Size:
        return cls(large=2000, small=200, batch=500)


def closed(survey_id: int, respondents: int) -> dict:
    return {"survey_id": survey_id, "title": "Library opening hours", "purpose": "Set hours",
            "scope": "Hours can change", "sponsors": ["council", "police"],
            "decision": {"description": "Hours", "owner": "Libraries board",
                         "due": date(2027, 1, 1)},
            "closed_at": datetime(2026, 11, 1, tzinfo=UTC), "invited": respondents * 3,
            "questions": [{"code": "hours", "text": "Which hours?", "type": "single_choice",
                           "base": respondents, "counts": {"Mornings": respondents},
                           "mean": None, "comments": 0}],
            "respondent_refs": [str(uuid.uuid4()) for _ in range(respondents)]}


def run(app, survey_id: int, respondents: int, batch: int) -> dict:
    bus = app.extensions["bus"]
    figures = {}
    with app.app_context(), new_session() as session:
        started = time.perf_counter()
        report = draft_report(session, closed(survey_id, respondents))
        session.commit()
        figures["draft_s"] = time.perf_counter() - started
        complete_report(report, {"we_did": "Open at 8am on weekdays.", "decided_on":
                                 date(2026, 11, 20), "decision_relation": "follows"})
        session.commit()
        started = time.perf_counter()
        publish_report(session, bus, report)
        session.commit()
        figures["publish_ms"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        told = tell_respondents(session, {"report_id": report.id}, bus=bus, links=LINKS,
                                batch_size=batch)
        session.commit()
        figures["tell_s"] = time.perf_counter() - started
        assert told == respondents
        commitment = add_commitment(report, {"action": "Open at 8am", "agency": "council",
                                             "due_on": date(2027, 2, 1)})
        session.flush()
        record_progress(report, commitment, {"text": "Rotas agreed.", "status": "in_progress"})
        session.commit()
        started = time.perf_counter()
        told = notify_progress(session, bus, links=LINKS, batch_size=batch,
                               now=datetime.now(UTC) + timedelta(days=8))
        session.commit()
        figures["progress_s"] = time.perf_counter() - started
        assert told == respondents
    return figures


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/feedback.db"
        upgrade_database(url, MIGRATIONS_DIR)
        app = create_app({"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0"})
        small = run(app, 1, size.small, size.batch)
        large = run(app, 2, size.large, size.batch)
        app.extensions["database"].engine.dispose()
    ratio = large["publish_ms"] / small["publish_ms"]
    print_result(
        "feedback_publish",
        {"respondents": size.large, "baseline_respondents": size.small,
         "publish_ms_baseline": round(small["publish_ms"], 1),
         "publish_ms": round(large["publish_ms"], 1),
         "draft_s": round(large["draft_s"], 2),
         "tell_s": round(large["tell_s"], 2),
         "tell_per_s": round(size.large / large["tell_s"]),
         "progress_s": round(large["progress_s"], 2)},
        ratio=round(ratio, 2),
        goal="publishing at 50,000 respondents within 3x the time at 1,000 (the fan-out is "
             "the worker's), and the fan-out under 60 s",
        met=ratio < 3 and large["tell_s"] < 60, quick=quick)


if __name__ == "__main__":
    main()
