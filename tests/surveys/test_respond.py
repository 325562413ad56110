"""Answering by web link: answers checked, saved once; unknown and closed links get a clear page."""

from __future__ import annotations

from sqlalchemy import func, select

from services.surveys.models import Answer, Invitation
from shared.db import new_session
from tests.scenario import add_members, bearer, setup_agencies, survey_payload


def launched(apps, clients, pump, members: int = 2):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], members)
    officer = bearer(keys["council"]["officer"])
    survey_id = clients["surveys"].post("/api/v1/surveys", json=survey_payload(
        sample_size=members), headers=officer).json["id"]
    clients["surveys"].post(f"/api/v1/surveys/{survey_id}/launch", headers=officer)
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        tokens = list(session.scalars(select(Invitation.token)))
    return survey_id, officer, tokens


def answer_count(apps) -> int:
    with apps["surveys"].app_context(), new_session() as session:
        return session.scalar(select(func.count()).select_from(Answer))


def test_out_of_range_answers_are_refused_with_the_reason_and_nothing_saved(apps, clients, pump):
    _, _, tokens = launched(apps, clients, pump)
    response = clients["surveys"].post(f"/r/{tokens[0]}", data={
        "feel_safe": "9", "priority": "Free parking"})
    assert response.status_code == 422
    assert b"Choose a point on the scale." in response.data
    assert b"Choose one of the options." in response.data
    assert answer_count(apps) == 0


def test_unknown_link_gets_a_clear_page(apps, clients, pump):
    response = clients["surveys"].get("/r/not-a-real-token")
    assert response.status_code == 404
    assert b"This link is not recognised" in response.data


def test_closed_survey_link_says_it_has_closed(apps, clients, pump):
    survey_id, officer, tokens = launched(apps, clients, pump)
    clients["surveys"].post(f"/api/v1/surveys/{survey_id}/close", headers=officer)
    response = clients["surveys"].post(f"/r/{tokens[0]}", data={"feel_safe": "3",
                                                                 "priority": "Police patrols"})
    assert response.status_code == 410
    assert b"This survey has closed" in response.data
    assert answer_count(apps) == 0


def test_invited_members_profile_snapshot_is_kept_with_the_invitation(apps, clients, pump):
    launched(apps, clients, pump, members=1)
    with apps["surveys"].app_context(), new_session() as session:
        invitation = session.scalar(select(Invitation))
    assert invitation.profile == {"age_band": "25-34", "gender": "female", "ethnicity": "white",
                                  "disability": "not_disabled", "area": "E05001001",
                                  "deprivation_decile": None, "tenure": None, "extra": {}}
    assert invitation.delivery_status == "sent"
