"""A survey closing, as surveys tells feedback: one message, and ways to read what followed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from services.feedback.models import Outbox
from shared.db import new_session
from shared.messages import build_message
from tests.scenario import bearer


def send(pump, name: str, payload: dict) -> None:
    """Put a message on its queue as the sending service would, and let it be handled."""
    envelope = json.loads(json.dumps(build_message(name, payload)))
    queue, _, job = name.partition(".")
    Queue(queue, connection=pump.redis, serializer=JSONSerializer).enqueue(
        f"services.{queue}.jobs.{job}", envelope)
    pump()


def close_survey(pump, counts: dict[str, int] | None = None, *, survey_id: int = 7,
                 sponsors=("council", "police"), respondent_refs=None, **changes) -> list[str]:
    """feedback.survey_closed for a library-hours survey; returns the respondents' refs."""
    counts = counts if counts is not None else {"Mornings": 30, "Evenings": 20}
    respondents = sum(counts.values())
    refs = [str(r) for r in respondent_refs] if respondent_refs is not None else [
        str(uuid.uuid4()) for _ in range(respondents)]
    payload = {
        "survey_id": survey_id, "title": "Library opening hours",
        "purpose": "Set library hours", "scope": "Hours can change; the budget cannot",
        "sponsors": list(sponsors), "invited": 100,
        "closed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "decision": {"description": "Library hours", "owner": "Libraries board",
                     "due": date(2027, 1, 1)},
        "questions": [{"code": "hours", "text": "Which hours suit you?", "type": "single_choice",
                       "base": respondents, "counts": counts, "mean": None, "comments": 0}],
        "respondent_refs": refs, "areas": ["E05001001"], "topics": ["libraries"],
    }
    payload.update(changes)
    send(pump, "feedback.survey_closed", payload)
    return refs


def only_report(client, key: str) -> dict:
    reports = client.get("/api/v1/reports", headers=bearer(key)).json
    assert len(reports) == 1, reports
    return reports[0]


def complete_and_publish(client, key: str, report_id: int, **changes):
    body = {"we_did": "Libraries open earlier on weekdays.", "decided_on": "2026-11-20",
            "decision_relation": "follows", "preference_question": "hours",
            "chosen_answer": "Mornings"}
    body.update(changes)
    patched = client.patch(f"/api/v1/reports/{report_id}", headers=bearer(key), json=body)
    assert patched.status_code == 200, patched.json
    return client.post(f"/api/v1/reports/{report_id}/publish", headers=bearer(key))


def deliveries_asked(app, template: str | None = None) -> list[dict]:
    """Every panel.deliver message feedback wrote to its outbox, oldest first."""
    with app.app_context(), new_session() as session:
        bodies = session.scalars(select(Outbox.body).where(Outbox.type == "panel.deliver")
                                 .order_by(Outbox.id)).all()
    messages = [json.loads(body)["payload"] for body in bodies]
    return [m for m in messages if template is None or m["template"] == template]
