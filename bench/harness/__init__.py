"""What every bench shares: its command line, the PostgreSQL it uses and its closing JSON line."""

from __future__ import annotations

import argparse
import json
import os

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """The server to create the bench's databases on: the bench's own setting if given, else
    the one the tests use, so `make test` and a bench by hand reach the same server."""
    return (os.environ.get("CIVICPANEL_BENCH_POSTGRES_URL")
            or os.environ.get("CIVICPANEL_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL)


def quick_requested(description: str | None) -> bool:
    """Parse the bench's command line; True for --quick (its code paths on small data, fixed
    sizes, in seconds: what the test suite runs so a bench cannot quietly stop working)."""
    parser = argparse.ArgumentParser(
        description=description.strip().splitlines()[0] if description else None)
    parser.add_argument("--quick", action="store_true",
                        help="the same code paths on small, fixed data, in seconds "
                             "(the sizing environment variables apply to full runs)")
    return parser.parse_args().quick


def print_result(bench: str, figures: dict, ratio: float, goal: str, met: bool,
                 quick: bool) -> None:
    """The one JSON line a bench ends with; a quick run says so in its figures."""
    print(json.dumps({"bench": bench, "figures": {"quick": quick, **figures}, "ratio": ratio,
                      "goal": goal, "met": bool(met)}), flush=True)
