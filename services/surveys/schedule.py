"""The periodic work of surveys: reminders, top-ups, and closing at the end of the window."""

from __future__ import annotations

from shared.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob("services.surveys.fieldwork.send_due_reminders", 300),
    PeriodicJob("services.surveys.fieldwork.close_ended_surveys", 300),
    PeriodicJob("services.surveys.fieldwork.top_up_lagging_cells", 3600),
]
