"""Moves messages between the services in tests: relay each outbox, run real RQ workers."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty

from shared.db import new_session


class JobFailed(AssertionError):
    pass


class BurstWorker(SimpleWorker):
    """RQ's in-process worker, minus the pub/sub command channel a burst run never reads:
    joining its listener thread costs up to a second per run."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


class ThreadWorker(BurstWorker):
    """The same worker off the main thread, as a browser test needs it (Playwright keeps the
    main one): Python lets only the main thread handle signals, so a job's time limit is kept
    by a timer instead of SIGALRM, and no stop signal is listened for."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


class Pump:
    def __init__(self, apps: dict, redis: Redis):
        self.apps = apps
        self.redis = redis

    def relay(self, name: str) -> int:
        app = self.apps[name]
        with app.app_context(), new_session() as session:
            return app.extensions["bus"].relay(session)

    def work(self, name: str, worker_class: type[SimpleWorker] = BurstWorker) -> None:
        """Run a real (in-process) RQ worker on the service's queue until the queue is empty."""
        app = self.apps[name]
        queue = Queue(name, connection=self.redis, serializer=JSONSerializer)
        if queue.count == 0:
            return
        with app.app_context():
            worker_class([queue], connection=self.redis,
                         serializer=JSONSerializer).work(burst=True)
        failed = FailedJobRegistry(queue=queue)
        if failed.count:
            job = queue.fetch_job(failed.get_job_ids()[0])
            raise JobFailed(f"{name} job {job.func_name} failed:\n{job.latest_result().exc_string}")

    def __call__(self, rounds: int = 20, worker_class: type[SimpleWorker] = BurstWorker) -> None:
        """Until nothing moves: every service relays its outbox and works its queue."""
        for _ in range(rounds):
            moved = sum(self.relay(name) for name in self.apps)
            for name in self.apps:
                self.work(name, worker_class)
            if moved == 0:
                return
        raise AssertionError(f"messages still moving after {rounds} rounds")
