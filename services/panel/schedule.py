"""The periodic work of panel."""

from __future__ import annotations

from shared.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob("services.panel.jobs.sweep_unconfirmed_deliveries", 300),
]
