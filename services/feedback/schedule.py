"""The periodic work of feedback: overdue reports flagged daily, progress news hourly."""

from __future__ import annotations

from shared.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob("shared.retention.prune_bus", 24 * 3600),
    PeriodicJob("services.feedback.jobs.flag_overdue", 24 * 3600),
    PeriodicJob("services.feedback.jobs.send_progress_news", 3600),
]
