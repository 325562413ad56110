"""The partnership's one contact cap: at most N invitations per rolling window, a minimum gap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ContactCap:
    invitations: int = 3
    window: timedelta = timedelta(days=90)
    min_gap: timedelta = timedelta(days=14)

    @classmethod
    def from_config(cls, config: Mapping) -> ContactCap:
        return cls(
            invitations=int(config.get("CONTACT_CAP_INVITATIONS", 3)),
            window=timedelta(days=int(config.get("CONTACT_CAP_WINDOW_DAYS", 90))),
            min_gap=timedelta(days=int(config.get("CONTACT_CAP_MIN_GAP_DAYS", 14))),
        )


def free_at(cap: ContactCap, invited_at: Iterable[datetime]) -> datetime | None:
    """When a member with these invitations may next be invited (None: never invited).

    They are free once the gap after the latest invitation has passed and fewer than N
    invitations remain inside the window, i.e. the N-th most recent has left it.
    """
    times = sorted(invited_at, reverse=True)
    if not times:
        return None
    free = times[0] + cap.min_gap
    if len(times) >= cap.invitations:
        free = max(free, times[cap.invitations - 1] + cap.window)
    return free


def is_free(cap_free_at: datetime | None, now: datetime) -> bool:
    return cap_free_at is None or cap_free_at <= now
