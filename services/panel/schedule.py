"""The periodic work of panel."""

from __future__ import annotations

from shared.schedule import PeriodicJob

PERIODIC_JOBS = [
    PeriodicJob("shared.retention.prune_bus", 24 * 3600),
    PeriodicJob("services.panel.jobs.sweep_unconfirmed_deliveries", 300),
    PeriodicJob("services.panel.jobs.tell_kept_draws", 300),
    # The partnership calendar's per-area counts of members resting under the contact cap.
    PeriodicJob("services.panel.jobs.publish_contact_cap_counts", 900),
]
