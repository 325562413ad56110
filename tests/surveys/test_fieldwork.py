"""Fieldwork: the monitor, reminders to non-responders, top-ups for lagging cells, closing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError

from services.surveys.fieldwork import close_ended_surveys, send_due_reminders, top_up_lagging_cells
from services.surveys.models import Agency, Answer, Invitation, Survey
from shared.db import new_session
from tests.scenario import bearer
from tests.staff import add_staff, sign_in
from tests.surveys.steps import (
    delivered,
    drawn,
    invitations,
    launch,
    member,
    sent,
    window,
)

ANSWERS = {"feel_safe": "4", "priority": "Street lighting"}
YOUNG, OLD = {"age_band": "16-24"}, {"age_band": "65-74"}
QUOTAS = [{"cell": YOUNG, "target": 2}, {"cell": OLD, "target": 2}]


def answer(clients, invitation: Invitation) -> None:
    assert clients["surveys"].post(f"/r/{invitation.token}", data=ANSWERS).status_code == 303


def at(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def monitor(clients, survey_id, headers) -> dict:
    response = clients["surveys"].get(f"/api/v1/surveys/{survey_id}/fieldwork", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_reminders_go_only_to_non_responders_on_the_schedule(apps, clients, pump):
    app = apps["surveys"]
    survey_id, _, _ = launch(apps, clients, pump, reminder_days=[3, 7], fieldwork=window(14))
    drawn(pump, survey_id, [member() for _ in range(4)])
    invited = invitations(app, survey_id)
    answer(clients, invited[0])
    # Started but not finished: still reminded.
    clients["surveys"].post(f"/r/{invited[1].token}", data={"feel_safe": "2", "action": "save"})

    with app.app_context():
        assert send_due_reminders(now=at(1)) == 0
        assert send_due_reminders(now=at(3.1)) == 3
        assert send_due_reminders(now=at(3.2)) == 0  # each reminder goes once
    reminded = delivered(app, "reminder")
    assert {r["member_ref"] for r in reminded} == {i.member_ref for i in invited[1:]}
    assert all(r["link"].endswith(f"/r/{i.token}") for r, i in zip(reminded, invited[1:],
                                                                        strict=True))

    answer(clients, invited[2])
    with app.app_context():
        assert send_due_reminders(now=at(7.5)) == 2
    second = [r["member_ref"] for r in delivered(app, "reminder")][3:]
    assert sorted(second) == sorted([invited[1].member_ref, invited[3].member_ref])


def test_a_reminder_resends_the_waiting_question_to_an_sms_dialogue_member(apps, clients, pump):
    app = apps["surveys"]
    survey_id, _, _ = launch(apps, clients, pump, reminder_days=[2],
                             channels=["web", "sms_dialogue"])
    texter = member("sms")
    drawn(pump, survey_id, [texter])
    with app.app_context():
        assert send_due_reminders(now=at(2.5)) == 1
    questions = [r["text"] for r in delivered(app, "dialogue")]
    assert len(questions) == 2 and all("How safe do you feel" in q for q in questions)


def test_top_up_fills_a_lagging_cell_and_full_cells_get_no_more_invitations(apps, clients, pump):
    app = apps["surveys"]
    survey_id, officer, _ = launch(apps, clients, pump, quotas=QUOTAS)
    launch_request = sent(app, "panel.draw_sample")[0]
    assert launch_request["draw_id"] == "launch"
    assert launch_request["quotas"] == [{"cell": {"age_band": "16-24"}, "target": 2},
                                        {"cell": {"age_band": "65-74"}, "target": 2}]
    drawn(pump, survey_id, [member(**YOUNG), member(**YOUNG), member(**OLD), member(**OLD),
                            member(**OLD)])
    for invitation in invitations(app, survey_id):
        if invitation.profile["age_band"] == "65-74":
            answer(clients, invitation)

    # The older cell filled (3 of 2); the younger one has no answers after two days.
    with app.app_context():
        assert top_up_lagging_cells(now=at(1)) == 0  # too soon: answers may still come
        assert top_up_lagging_cells(now=at(2.5)) == 1
    request = sent(app, "panel.draw_sample")[-1]
    assert request["draw_id"] == "topup:1"
    assert [q["cell"] for q in request["quotas"]] == [{"age_band": "16-24"}]
    assert request["size"] == request["quotas"][0]["target"] >= 2
    assert sorted(request["exclude_member_refs"]) == sorted(
        i.member_ref for i in invitations(app, survey_id))

    # Panel answers the top-up; an older member it still sent is not invited: that cell is full.
    drawn(pump, survey_id, [member(**YOUNG), member(**YOUNG), member(**OLD)], draw_id="topup:1")
    topped = [i for i in invitations(app, survey_id) if i.draw_id == "topup:1"]
    assert [i.profile["age_band"] for i in topped] == ["16-24", "16-24"]
    for invitation in topped:
        answer(clients, invitation)

    cells = monitor(clients, survey_id, officer)["cells"]
    assert [(c["cell"], c["completed"], c["full"]) for c in cells] == [
        ({"age_band": "16-24"}, 2, True), ({"age_band": "65-74"}, 3, True)]
    assert monitor(clients, survey_id, officer)["top_ups"] == 1
    with app.app_context():
        assert top_up_lagging_cells(now=at(5)) == 0  # nothing lags any more


def test_an_officer_can_top_up_by_hand(apps, clients, pump):
    survey_id, officer, _ = launch(apps, clients, pump, quotas=QUOTAS)
    response = clients["surveys"].post(f"/api/v1/surveys/{survey_id}/top-up", headers=officer)
    assert response.status_code == 202
    assert sent(apps["surveys"], "panel.draw_sample")[-1]["draw_id"] == "topup:1"


def test_monitor_counts_invited_delivered_started_completed_by_channel_and_group(
        apps, clients, pump):
    app = apps["surveys"]
    survey_id, officer, keys = launch(apps, clients, pump, quotas=QUOTAS)
    drawn(pump, survey_id, [member(**YOUNG), member("sms", **OLD), member(**OLD),
                            member("sms", **YOUNG, gender="male")])
    invited = invitations(app, survey_id)
    answer(clients, invited[0])
    answer(clients, invited[1])
    clients["surveys"].post(f"/r/{invited[2].token}", data={"feel_safe": "3", "action": "save"})
    with app.app_context(), new_session() as session:
        session.execute(update(Invitation).where(Invitation.id.in_([i.id for i in invited[:3]]))
                        .values(delivery_status="delivered"))
        session.commit()

    figures = monitor(clients, survey_id, bearer(keys["council"]["analyst"]))
    assert (figures["invited"], figures["delivered"], figures["started"],
            figures["completed"]) == (4, 3, 3, 2)
    assert figures["response_rate"] == 0.5
    assert figures["by_channel"] == {"email": {"invited": 2, "completed": 1, "rate": 0.5},
                                     "sms": {"invited": 2, "completed": 1, "rate": 0.5}}
    assert figures["by_group"]["gender"] == {
        "female": {"invited": 3, "completed": 2, "rate": 0.667},
        "male": {"invited": 1, "completed": 0, "rate": 0.0}}
    assert [c["completed"] for c in figures["cells"]] == [1, 1]
    add_staff(apps, email="officer@council.example", agency="council", role="officer")
    sign_in(apps, clients, "officer@council.example")
    page = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork")
    assert page.status_code == 200 and b"Quota cells" in page.data and b"Response rate" in page.data
    college = bearer(keys["college"]["admin"])
    assert clients["surveys"].get(f"/api/v1/surveys/{survey_id}/fieldwork",
                                  headers=college).status_code == 404
    add_staff(apps, email="admin@college.example", agency="college", role="admin")
    sign_in(apps, clients, "admin@college.example")
    refused = clients["surveys"].get(f"/surveys/{survey_id}/fieldwork")
    assert refused.status_code == 404 and b"Page not found" in refused.data


def test_profile_snapshot_is_unchanged_after_the_members_profile_changes(apps, clients, pump):
    app = apps["surveys"]
    survey_id, officer, _ = launch(apps, clients, pump)
    someone = member(age_band="25-34")
    drawn(pump, survey_id, [someone])
    # Later the member turns 35 and panel, drawing again, sends their new profile.
    drawn(pump, survey_id, [{**someone, "profile": {**someone["profile"], "age_band": "35-44"}}],
          draw_id="topup:1")
    [invitation] = invitations(app, survey_id)
    assert invitation.profile["age_band"] == "25-34"
    assert list(monitor(clients, survey_id, officer)["by_group"]["age_band"]) == ["25-34"]


def test_survey_closes_itself_at_the_end_of_its_window_and_reports_to_feedback(
        apps, clients, pump):
    app = apps["surveys"]
    survey_id, officer, _ = launch(apps, clients, pump, fieldwork=window(7),
                                   areas=["E05001001"], topics=["community safety"])
    drawn(pump, survey_id, [member(), member()])
    answer(clients, invitations(app, survey_id)[0])
    with app.app_context(), new_session() as session:
        session.execute(update(Survey).values(translations={"cy": {
            "title": "Teimlo'n ddiogel yng nghanol y dref", "summary": "Helpwch ni."}}))
        session.commit()
    with app.app_context():
        assert close_ended_surveys(now=at(7)) == []  # the last day still takes answers
        assert close_ended_surveys(now=at(8)) == [survey_id]
        assert close_ended_surveys(now=at(9)) == []
    [closed] = sent(app, "feedback.survey_closed")
    assert closed["areas"] == ["E05001001"] and closed["topics"] == ["community safety"]
    assert closed["invited"] == 2 and len(closed["respondent_refs"]) == 1
    assert closed["title_translations"] == {"cy": "Teimlo'n ddiogel yng nghanol y dref"}
    assert closed["respondent_channels"] == {invitations(app, survey_id)[0].channel: 1}
    with app.app_context(), new_session() as session:
        assert session.scalar(select(Survey.status)) == "closed"


def test_a_link_after_the_window_ends_says_it_has_expired(apps, clients, pump):
    app = apps["surveys"]
    survey_id, _, _ = launch(apps, clients, pump, fieldwork=window(7))
    drawn(pump, survey_id, [member()])
    with app.app_context(), new_session() as session:
        session.execute(update(Survey).values(fieldwork_end=date.today() - timedelta(days=1)))
        session.commit()
    page = clients["surveys"].get(f"/r/{invitations(app, survey_id)[0].token}")
    assert page.status_code == 410 and b"This link has expired" in page.data


def test_a_survey_keeps_its_moments_in_utc_and_refuses_a_time_without_its_offset(surveys_app):
    paris = timezone(timedelta(hours=1))
    with surveys_app.app_context(), new_session() as session:
        session.add(Agency(slug="council", name="Riverside Borough Council"))
        survey = Survey(title="t", summary="s", purpose="p", scope="s", lead_agency="council",
                        sample_size=1, launched_at=datetime(2026, 3, 1, 10, 0, tzinfo=paris))
        session.add(survey)
        session.commit()
        survey_id = survey.id
    with surveys_app.app_context(), new_session() as session:
        launched = session.get(Survey, survey_id).launched_at
        assert launched == datetime(2026, 3, 1, 9, 0, tzinfo=UTC) and launched.tzinfo == UTC
        session.get(Survey, survey_id).closed_at = datetime(2026, 3, 2, 9, 0)
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_a_survey_that_cannot_close_holds_up_no_other(apps, clients, pump, caplog):
    app = apps["surveys"]
    broken, _, keys = launch(apps, clients, pump, fieldwork=window(7))
    fine, _, _ = launch(apps, clients, pump, keys=keys, fieldwork=window(7))
    drawn(pump, broken, [member()])
    drawn(pump, fine, [member()])
    answer(clients, invitations(app, broken)[0])
    with app.app_context(), new_session() as session:
        # A rating no answer can hold today, as a database restored from long ago might.
        session.execute(update(Answer).values(value="9" * 400))
        session.commit()
    with app.app_context():
        assert close_ended_surveys(now=at(8)) == [fine]
    assert f"survey {broken} could not be closed" in caplog.text
    with app.app_context(), new_session() as session:
        assert session.get(Survey, broken).status == "fieldwork"
        assert session.get(Survey, fine).status == "closed"
