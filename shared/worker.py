"""The queue worker of one service: an RQ worker (JSON, with scheduler) that also relays its outbox.

Run as ``python -m shared.worker <service>``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import threading

from flask import Flask
from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer

from shared.config import SERVICES
from shared.schedule import register_periodic_jobs

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_SECONDS = 60


def relay_outbox_forever(app: Flask, stop: threading.Event) -> None:
    """Push the service's pending outbox rows to Redis until told to stop."""
    bus = app.extensions["bus"]
    sessions = app.extensions["database"].sessions
    interval = app.config["RELAY_INTERVAL_SECONDS"]
    while not stop.is_set():
        try:
            with sessions() as session:
                relayed = bus.relay(session)
        except Exception:  # noqa: BLE001 - the relay must outlive a bad pass
            log.exception("outbox relay pass failed")
            relayed = 0
        if relayed == 0:
            stop.wait(interval)


def create_service_app(service: str) -> Flask:
    return importlib.import_module(f"services.{service}").create_app()


def run(service: str, burst: bool = False) -> None:
    app = create_service_app(service)
    stop = threading.Event()
    relay = threading.Thread(
        target=relay_outbox_forever, args=(app, stop), name=f"{service}-outbox-relay", daemon=True
    )
    # The worker blocks on Redis for minutes at a time, so it gets a connection without a
    # read timeout; the app's own connection keeps one for requests.
    connection = Redis.from_url(app.config["REDIS_URL"])
    register_periodic_jobs(service, connection)
    with app.app_context():
        relay.start()
        try:
            worker = Worker(
                [service],
                connection=connection,
                serializer=JSONSerializer,
                maintenance_interval=MAINTENANCE_INTERVAL_SECONDS,
            )
            worker.work(burst=burst, with_scheduler=True)
        finally:
            stop.set()
            relay.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    args = parser.parse_args(argv)
    run(args.service, burst=args.burst)


if __name__ == "__main__":
    main()
