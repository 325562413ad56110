"""SMS dialogue round trip: a reply at panel's webhook until the next question reaches the gateway.

The path is the production one: a signed Twilio-format POST to panel's /sms/inbound, panel's
outbox relayed to Redis, surveys' worker process reading the reply and saving the answer,
surveys' outbox relayed, panel's worker process sending the next question to a loopback SMS
gateway. The baseline, in the same run, is panel's webhook answering a HELP keyword itself
(the floor of reaching panel at all). Run as `.venv/bin/python bench/sms_roundtrip.py
[--quick]`; prints one JSON line. Sized by SMS_MEMBERS and SMS_REPLIES_EACH; --quick has 2
members reply twice each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import print_result, quick_requested  # noqa: E402

TIMEOUT_SECONDS = 20
PANEL_PUBLIC_URL = "http://panel.bench"


@dataclass(frozen=True)
class Size:
    members: int
    replies_each: int

    @classmethod
    def full(cls) -> Size:
        return cls(members=int(os.environ.get("SMS_MEMBERS", "10")),
                   replies_each=int(os.environ.get("SMS_REPLIES_EACH", "8")))

    @classmethod
    def quick(cls) -> Size:
        return cls(members=2, replies_each=2)


def phone(index: int) -> str:
    return f"+4477009{index:05d}"


class Gateway:
    """The loopback SMS gateway, with the arrival time of each message by recipient."""

    def __init__(self):
        from tests.fakes.sms_gateway import FakeSmsGateway

        self.fake = FakeSmsGateway().start()
        self.arrived: dict[str, list[tuple[float, str]]] = {}
        self._seen = 0
        self._lock = threading.Lock()

    def poll(self) -> None:
        with self.fake._lock:  # the fake keeps its messages under this lock
            fresh = self.fake.messages[self._seen:]
            self._seen += len(fresh)
        now = time.perf_counter()
        with self._lock:
            for message in fresh:
                self.arrived.setdefault(message["to"], []).append((now, message["body"]))

    def wait_for(self, to: str, count: int, timeout: float = TIMEOUT_SECONDS) -> float:
        """When the recipient's `count`-th message arrived (polling every half millisecond)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.poll()
            got = self.arrived.get(to, [])
            if len(got) >= count:
                return got[count - 1][0]
            time.sleep(0.0005)
        raise TimeoutError(f"no message {count} to {to} within {timeout}s")


def inbound(panel_url: str, gateway, sender: str, body: str) -> float:
    """POST a signed inbound SMS to panel's webhook; the time it took to answer."""
    form = {"MessageSid": "SM" + os.urandom(16).hex(), "AccountSid": gateway.fake.account_sid,
            "From": sender, "To": "+447700900999", "Body": body, "NumMedia": "0"}
    signature = gateway.fake.signature(f"{PANEL_PUBLIC_URL}/sms/inbound", form)
    started = time.perf_counter()
    request = Request(f"{panel_url}/sms/inbound", data=urlencode(form).encode(), headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
    with urlopen(request, timeout=10) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
    return time.perf_counter() - started


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    quick = quick_requested(__doc__)
    size = Size.quick() if quick else Size.full()
    from werkzeug.serving import make_server

    from services import feedback, panel, surveys
    from services.surveys.keys import issue_key
    from services.surveys.models import Agency
    from shared.db import new_session, upgrade_database
    from tests.fakes.redis_server import PrivateRedis
    from tests.scenario import bearer, survey_payload

    folder = Path(tempfile.mkdtemp(prefix="civicpanel-sms-bench-"))
    redis = PrivateRedis().start()
    gateway = Gateway()
    workers: list[subprocess.Popen] = []
    server = None
    try:
        env = {"PANEL_DATABASE_URL": f"sqlite:///{folder / 'panel.db'}",
               "SURVEYS_DATABASE_URL": f"sqlite:///{folder / 'surveys.db'}",
               "FEEDBACK_DATABASE_URL": f"sqlite:///{folder / 'feedback.db'}",
               "REDIS_URL": redis.url, "PANEL_URL": PANEL_PUBLIC_URL,
               "SMS_GATEWAY_URL": gateway.fake.url, "SMS_ACCOUNT_SID": gateway.fake.account_sid,
               "SMS_AUTH_TOKEN": gateway.fake.auth_token, "SMS_FROM": "+447700900999",
               "SECRET_KEY": "bench", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "1"}
        os.environ.update(env)
        for name, module in (("panel", panel), ("surveys", surveys), ("feedback", feedback)):
            upgrade_database(env[f"{name.upper()}_DATABASE_URL"], module.MIGRATIONS_DIR)
        panel_app, surveys_app = panel.create_app(), surveys.create_app()
        with surveys_app.app_context(), new_session() as session:
            session.add(Agency(slug="council", name="Riverside Council"))
            session.flush()
            keys = {role: issue_key(session, surveys_app.extensions["bus"], agency="council",
                                    role=role) for role in ("officer", "panel_manager")}
            session.commit()
        for name in ("panel", "surveys"):
            workers.append(subprocess.Popen([sys.executable, "-m", "shared.worker", name],
                                            cwd=ROOT, env={**os.environ, **env},
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        server = make_server("127.0.0.1", 0, panel_app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        panel_url = f"http://127.0.0.1:{server.server_port}"

        # Keys reach panel through its worker; then members join and a survey goes out by SMS.
        panel_client, surveys_client = panel_app.test_client(), surveys_app.test_client()
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while panel_client.get("/api/v1/members", headers=bearer(
                keys["panel_manager"])).status_code == 401:
            if time.monotonic() > deadline:
                raise TimeoutError("panel never got the API keys")
            time.sleep(0.1)
        for index in range(size.members):
            added = panel_client.post("/api/v1/members", headers=bearer(keys["panel_manager"]),
                                      json={"email": None, "phone": phone(index),
                                            "preferred_channel": "sms",
                                            "profile": {"age_band": "25-34", "gender": "female",
                                                        "ethnicity": "white",
                                                        "disability": "not_disabled",
                                                        "area": "E05001001"},
                                            "consent": {"surveys": True, "outcomes": True}})
            assert added.status_code == 201, added.json
        questions = [{"code": f"q{n}", "type": "rating", "text": f"Question {n}: how safe?",
                      "scale": {"min": 1, "max": 5, "labels": []}}
                     for n in range(size.replies_each + 1)]
        created = surveys_client.post("/api/v1/surveys", headers=bearer(keys["officer"]),
                                      json=survey_payload(sample_size=size.members,
                                                          channels=["sms_dialogue"],
                                                          questions=questions))
        assert created.status_code == 201, created.json
        launched = surveys_client.post(f"/api/v1/surveys/{created.json['id']}/launch",
                                       headers=bearer(keys["officer"]))
        assert launched.status_code == 202, launched.json
        # Each member gets the invitation and the first question.
        for index in range(size.members):
            gateway.wait_for(phone(index), 2, timeout=60)

        baseline = [inbound(panel_url, gateway, phone(index), "HELP")
                    for index in range(size.members) for _ in range(3)]
        trips = []
        for _ in range(size.replies_each):
            for index in range(size.members):
                sender = phone(index)
                expected = len(gateway.arrived.get(sender, [])) + 1
                started = time.perf_counter()
                inbound(panel_url, gateway, sender, " 3 ")
                trips.append(gateway.wait_for(sender, expected) - started)
        last = gateway.arrived[phone(0)][-1][1]
        if not last.startswith("Q") and "Thank you" not in last:
            raise RuntimeError(f"unexpected last text: {last}")
    finally:
        if server is not None:
            server.shutdown()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=10)
        gateway.fake.stop()
        redis.stop()
    trip_p95 = p95(trips)
    print_result(
        "sms_roundtrip",
        {"members": size.members, "round_trips": len(trips),
         "p50_ms": round(statistics.median(trips) * 1000, 1),
         "p95_ms": round(trip_p95 * 1000, 1), "max_ms": round(max(trips) * 1000, 1),
         "webhook_only_p95_ms": round(p95(baseline) * 1000, 1),
         "database": "sqlite", "workers": "panel and surveys, one process each"},
        ratio=round(trip_p95 / p95(baseline), 1),
        goal="p95 from the inbound SMS to the next question at the gateway < 2 s "
             "(ratio: round trip p95 over the webhook-only p95)",
        met=trip_p95 < 2.0, quick=quick)


if __name__ == "__main__":
    main()
