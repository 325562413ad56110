"""Steps for surveys tests: launch by API, messages as panel sends them, what surveys sent."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from services.surveys.models import Invitation, Outbox
from shared.db import new_session
from shared.messages import build_message
from tests.scenario import bearer, setup_agencies, survey_payload

PROFILE = {"age_band": "25-34", "gender": "female", "ethnicity": "white",
           "disability": "not_disabled", "area": "E05001001"}


def from_panel(pump, name: str, payload: dict) -> None:
    """Hand surveys a message as panel would, and let surveys' real worker handle it.

    Only surveys' queue is worked: what surveys sends back stays in its outbox for the
    test to read, whatever state panel's own handlers are in.
    """
    envelope = json.loads(json.dumps(build_message(name, payload)))
    Queue("surveys", connection=pump.redis, serializer=JSONSerializer).enqueue(
        f"services.surveys.jobs.{name.partition('.')[2]}", envelope)
    pump.work("surveys")


def member(channel: str = "email", language: str = "en", **profile) -> dict:
    return {"member_ref": str(uuid.uuid4()), "channel": channel, "language": language,
            "profile": {**PROFILE, **profile}}


def drawn(pump, survey_id: int, members: list[dict], draw_id: str = "launch") -> None:
    from_panel(pump, "surveys.sample_drawn", {"survey_id": survey_id, "draw_id": draw_id,
                                              "members": members, "shortfall": 0})


def sent(app, message_type: str) -> list[dict]:
    """The payloads of the messages of this type surveys has sent (its outbox), oldest first."""
    with app.app_context(), new_session() as session:
        bodies = session.scalars(select(Outbox.body).where(Outbox.type == message_type)
                                 .order_by(Outbox.id)).all()
    return [json.loads(body)["payload"] for body in bodies]


def delivered(app, template: str) -> list[dict]:
    return [recipient for payload in sent(app, "panel.deliver")
            if payload["template"] == template for recipient in payload["recipients"]]


def invitations(app, survey_id: int) -> list[Invitation]:
    with app.app_context(), new_session() as session:
        return list(session.scalars(select(Invitation).where(Invitation.survey_id == survey_id)
                                    .order_by(Invitation.id)))


def launch(apps, clients, pump, keys=None, **changes) -> tuple[int, dict, dict]:
    """A council survey drafted and launched by API: (survey id, officer headers, keys)."""
    keys = keys or setup_agencies(apps, pump)
    officer = bearer(keys["council"]["officer"])
    created = clients["surveys"].post("/api/v1/surveys", headers=officer,
                                      json=survey_payload(**changes))
    assert created.status_code == 201, created.json
    launched = clients["surveys"].post(f"/api/v1/surveys/{created.json['id']}/launch",
                                       headers=officer)
    assert launched.status_code == 202, launched.json
    return created.json["id"], officer, keys


def window(days: int = 14) -> dict:
    return {"start": date.today().isoformat(),
            "end": (date.today() + timedelta(days=days)).isoformat()}
