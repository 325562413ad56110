"""What surveys does with messages about members and the population: erasure, census margins."""

from __future__ import annotations

import json

from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from services.surveys.models import Invitation, PopulationTarget, Response
from shared.db import new_session
from shared.messages import build_message
from tests.surveys.test_respond import launched


def send(pump, name: str, payload: dict) -> None:
    envelope = json.loads(json.dumps(build_message(name, payload)))
    queue, _, job = name.partition(".")
    Queue(queue, connection=pump.redis, serializer=JSONSerializer).enqueue(
        f"services.{queue}.jobs.{job}", envelope)
    pump()


def test_an_erased_member_cannot_be_traced_but_their_answers_still_count(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump, members=1)
    clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "2",
                                                      "priority": "Police patrols"})
    with apps["surveys"].app_context(), new_session() as session:
        member_ref = session.scalar(select(Invitation.member_ref))
    send(pump, "surveys.member_erased", {"member_ref": member_ref})
    with apps["surveys"].app_context(), new_session() as session:
        invitation = session.scalar(select(Invitation))
        assert invitation.member_ref != member_ref
        assert session.scalar(select(Response.invitation_id)) == invitation.id
    assert clients["surveys"].get(f"/r/{tokens[0]}").status_code == 404


def test_population_targets_replace_those_of_the_same_area_only(apps, pump):
    send(pump, "surveys.population_targets", {"vintage": "2021", "areas": {
        "E05000001": {"gender": {"female": 510.0, "male": 490.0}},
        "E05000002": {"gender": {"female": 300.0, "male": 310.0}}}})
    send(pump, "surveys.population_targets", {"vintage": "2021b", "areas": {
        "E05000001": {"gender": {"female": 520.0, "male": 480.0}}}})
    with apps["surveys"].app_context(), new_session() as session:
        rows = {(t.area, t.category): float(t.population)
                for t in session.scalars(select(PopulationTarget))}
    assert rows == {("E05000001", "female"): 520.0, ("E05000001", "male"): 480.0,
                    ("E05000002", "female"): 300.0, ("E05000002", "male"): 310.0}
