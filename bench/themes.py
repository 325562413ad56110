"""Benchmark: the themes of 10,000 free-text answers, found by surveys' worker job.

Run as `.venv/bin/python bench/themes.py [--quick]`; prints one JSON line. A survey with 10,000
answers (five topics, one in six in Welsh) is written to a SQLite database this script makes
in a temporary folder; then the `surveys.find_themes` job runs as the worker runs it (claim,
read the answers, TF-IDF and NMF per language with the number of themes chosen, store the
themes with the edits applied). Timed beside a bare TF-IDF fit of the same texts in the same
run (the ratio); peak memory is the process's peak resident set while the job ran, and
Python's own allocations at their peak (tracemalloc) for the theme finding alone.
--quick does the same with 1,000 answers.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.harness import print_result, quick_requested  # noqa: E402
from services.surveys import MIGRATIONS_DIR, create_app, jobs  # noqa: E402
from services.surveys.models import (  # noqa: E402
    Agency,
    Answer,
    Invitation,
    Question,
    Response,
    Survey,
    SurveySponsor,
    Theme,
    ThemeRun,
)
from services.surveys.theming import find_themes  # noqa: E402
from shared.db import new_session, upgrade_database  # noqa: E402
from shared.messages import build_message  # noqa: E402
from tests.surveys.generated_answers import answers  # noqa: E402

FULL_ANSWERS = 10_000
QUICK_ANSWERS = 1_000


def load(count: int) -> tuple[int, list[str], list[str]]:
    """A survey in fieldwork with `count` answers to its free-text question: the run's id."""
    texts, languages, labels = answers(count, seed=11, welsh_every=6)
    with new_session() as session:
        session.add(Agency(slug="council", name="Riverside Council"))
        survey = Survey(title="Bench", lead_agency="council", sample_size=count,
                        status="fieldwork", purpose="p", scope="s")
        survey.sponsors = [SurveySponsor(agency="council", cost_share=100)]
        survey.questions = [Question(position=0, code="comments", type="free_text",
                                     text="Anything else?", required=False)]
        session.add(survey)
        session.flush()
        question_id = survey.questions[0].id
        session.execute(insert(Invitation), [
            {"id": i + 1, "survey_id": survey.id, "member_ref": f"ref-{i}", "token": f"t{i}",
             "channel": "email", "profile": {}, "language": languages[i]}
            for i in range(count)])
        session.execute(insert(Response), [
            {"id": i + 1, "survey_id": survey.id, "invitation_id": i + 1, "channel": "web"}
            for i in range(count)])
        session.execute(insert(Answer), [
            {"response_id": i + 1, "question_id": question_id, "value": texts[i]}
            for i in range(count)])
        run = ThemeRun(survey_id=survey.id, question_id=question_id, actor="bench")
        session.add(run)
        session.commit()
        return run.id, labels, texts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    quick = quick_requested(__doc__)
    count = QUICK_ANSWERS if quick else FULL_ANSWERS
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder}/surveys.db",
                          "REDIS_URL": "redis://127.0.0.1:1/0"})
        upgrade_database(f"sqlite:///{folder}/surveys.db", MIGRATIONS_DIR)
        with app.app_context():
            run_id, labels, texts = load(count)
            envelope = json.loads(json.dumps(build_message("surveys.find_themes",
                                                           {"run_id": run_id})))
            rss_before = peak_rss_mb()
            start = time.perf_counter()
            assert jobs.find_themes(envelope)
            job_s = time.perf_counter() - start
            rss_after = peak_rss_mb()
            with new_session() as session:
                run = session.get(ThemeRun, run_id)
                themes = list(session.scalars(select(Theme).order_by(Theme.position)))
                ids = sorted(a for t in themes for a in t.answer_ids)
                position = {a: index for index, a in enumerate(ids)}
                predicted = [0] * len(ids)
                for number, theme in enumerate(themes):
                    for a in theme.answer_ids:
                        predicted[position[a]] = number
                assert run.status == "done" and run.progress == 100
        languages = ["cy" if i % 6 == 0 else "en" for i in range(count)]
        tracemalloc.start()
        find_themes(texts, languages)
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        start = time.perf_counter()
        TfidfVectorizer().fit_transform(texts)
        tfidf_s = time.perf_counter() - start
    figures = {
        "answers": count, "themes": len(themes), "welsh_share": round(1 / 6, 3),
        "job_s": round(job_s, 2), "bare_tfidf_s": round(tfidf_s, 3),
        "peak_rss_mb": round(rss_after, 1), "rss_growth_mb": round(rss_after - rss_before, 1),
        "python_peak_mb": round(python_peak / 2**20, 1),
        "adjusted_rand_index": round(adjusted_rand_score(labels, predicted), 3),
        # The machine is shared: a load average over its 2 cores slows every figure above.
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    print_result("themes", figures, ratio=round(job_s / tfidf_s, 2),
                 goal="under 10 s for 10,000 answers, themed in the worker's job",
                 met=job_s < 10, quick=quick)


if __name__ == "__main__":
    main()
