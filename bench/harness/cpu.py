"""CPU seconds each part of a run used, read from /proc (Linux): a worker with every job it
forked, the database server's backends for the run's own databases, Redis, this process.

A worker's work-horses are its children: the time of each one it has waited for is in the
worker's own figures (cutime, cstime), and a horse still running is read as it goes. The
database server is shared with whatever else runs on the machine, so its backends are told
apart by the database named in their process title, and read every POLL_SECONDS while they
live (a backend's last moments are missed: the figure is a little low).
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict

POLL_SECONDS = 0.1
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[float, float] | None:
    """(own, reaped children's) CPU seconds of a live process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime) / TICKS, (cutime + cstime) / TICKS


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _tree_seconds(pid: int) -> float:
    """A process, its reaped children and every live descendant."""
    total = 0.0
    for child in _children(pid):
        total += _tree_seconds(child)
    stat = _stat(pid)
    return total + (sum(stat) if stat else 0.0)


def _machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent on anything but idling and waiting."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / TICKS


class CpuMeter:
    """Between start() and stop(): CPU seconds of each named process tree, and of the database
    server's backends per database."""

    def __init__(self, processes: dict[str, list[int]], databases: dict[str, str]):
        self.processes = processes  # label -> pids (each with its descendants)
        self.databases = databases  # label -> database name in the backends' titles
        self._backends: dict[int, tuple[str, float, float]] = {}  # pid -> label, first, last
        self._unknown: set[int] = set()
        self._seen: set[int] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="cpu-meter")

    def start(self) -> CpuMeter:
        self._seen = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        for pid in self._seen:  # backends already open start from where they are
            self._classify(pid, first=True)
        self._start = {label: sum(_tree_seconds(pid) for pid in pids)
                       for label, pids in self.processes.items()}
        self._self_start = sum(os.times()[:2])
        self._machine_start = _machine_busy_seconds()
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """CPU seconds since start(), by label; "machine" is every core's busy time."""
        self._stopping.set()
        self._thread.join(timeout=5)
        self._read_backends()
        used: dict[str, float] = defaultdict(float)
        for label, pids in self.processes.items():
            used[label] = sum(_tree_seconds(pid) for pid in pids) - self._start[label]
        for label, first, last in self._backends.values():
            used[f"postgres ({label})"] += last - first
        used["bench (gateway, launch, polling)"] = sum(os.times()[:2]) - self._self_start
        used["machine (every process)"] = _machine_busy_seconds() - self._machine_start
        return {label: round(seconds, 1) for label, seconds in used.items()}

    def _classify(self, pid: int, first: bool = False) -> None:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                title = cmdline.read().decode(errors="replace")
        except OSError:
            return
        if "postgres" not in title:
            return
        for label, database in self.databases.items():
            if f" {database} " in title:
                stat = _stat(pid)
                if stat:
                    self._backends[pid] = (label, stat[0] if first else 0.0, stat[0])
                self._unknown.discard(pid)
                return
        if not title.startswith("postgres:"):
            # Still the server's own command line: a backend just forked, not yet titled
            # with its database; look again at the next poll.
            self._unknown.add(pid)
        else:
            self._unknown.discard(pid)  # another database's backend, or the server's own

    def _read_backends(self) -> None:
        for pid, (label, first, _) in list(self._backends.items()):
            stat = _stat(pid)
            if stat is None:
                continue
            self._backends[pid] = (label, first, stat[0])

    def _poll(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            now = {int(name) for name in os.listdir("/proc") if name.isdigit()}
            for pid in (now - self._seen) | (self._unknown & now):
                self._classify(pid)
            self._unknown &= now
            self._seen = now
            self._read_backends()
