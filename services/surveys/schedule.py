"""The periodic work of surveys: reminders, top-ups, and closing at the end of the window."""

from __future__ import annotations

from shared.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob("shared.retention.prune_bus", 24 * 3600),
    PeriodicJob("services.surveys.fieldwork.send_due_reminders", 300),
    PeriodicJob("services.surveys.fieldwork.close_ended_surveys", 300),
    PeriodicJob("services.surveys.fieldwork.top_up_lagging_cells", 3600),
    PeriodicJob("services.surveys.retention.prune_finished_exports", 24 * 3600),
]
