"""Keeping agencies to their promises: overdue reports flagged, commitments tracked, and the
public scoreboard."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

from services.feedback.accountability import scoreboard
from services.feedback.jobs import flag_overdue
from shared.schedule import periodic_jobs
from tests.feedback.closing import close_survey, complete_and_publish, only_report
from tests.scenario import bearer, setup_agencies

CLOSED = datetime(2026, 11, 1, tzinfo=UTC)


def overdue_for(client, key: str) -> list[dict]:
    response = client.get("/api/v1/accountability/overdue", headers=bearer(key))
    assert response.status_code == 200, response.json
    return response.json


def test_a_report_unpublished_30_days_after_close_is_flagged_to_each_sponsor(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, sponsors=("council", "police"), closed_at=CLOSED)
    feedback = clients["feedback"]
    with apps["feedback"].app_context():
        assert flag_overdue(now=CLOSED + timedelta(days=29, hours=23)) == 0
        assert overdue_for(feedback, keys["council"]["officer"]) == []
        # The clock moves past thirty days: both sponsors are told, nobody else.
        assert flag_overdue(now=CLOSED + timedelta(days=31)) == 2
        assert flag_overdue(now=CLOSED + timedelta(days=32)) == 2  # daily, still overdue
    flagged = overdue_for(feedback, keys["police"]["analyst"])
    assert [(f["title"], f["days_overdue"]) for f in flagged] == [("Library opening hours", 2)]
    assert overdue_for(feedback, keys["college"]["officer"]) == []

    # Publishing clears the flag at the next daily run.
    officer = keys["council"]["officer"]
    report = only_report(feedback, officer)
    assert complete_and_publish(feedback, officer, report["id"]).status_code == 200
    with apps["feedback"].app_context():
        assert flag_overdue(now=CLOSED + timedelta(days=33)) == 0
    assert overdue_for(feedback, keys["council"]["officer"]) == []


def test_overdue_days_come_from_configuration(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, sponsors=("council",), closed_at=CLOSED)
    app = apps["feedback"]
    app.config["FEEDBACK_OVERDUE_DAYS"] = 10
    try:
        with app.app_context():
            assert flag_overdue(now=CLOSED + timedelta(days=11)) == 1
    finally:
        app.config["FEEDBACK_OVERDUE_DAYS"] = 30
    assert len(overdue_for(clients["feedback"], keys["council"]["officer"])) == 1


def test_the_daily_and_hourly_jobs_are_declared_and_importable():
    jobs = {job.job_path: job.interval for job in periodic_jobs("feedback")}
    assert jobs == {"shared.retention.prune_bus": 86400,
                    "services.feedback.jobs.flag_overdue": 86400,
                    "services.feedback.jobs.send_progress_news": 3600}
    for path in jobs:
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_scoreboard_counts_reports_days_to_publish_overdue_and_commitments():
    now = datetime(2027, 3, 1, tzinfo=UTC)
    reports = [
        {"agencies": ["council", "police"], "status": "published",
         "closed_at": datetime(2027, 1, 1, tzinfo=UTC),
         "published_at": datetime(2027, 1, 11, tzinfo=UTC)},
        {"agencies": ["council"], "status": "published",
         "closed_at": datetime(2027, 1, 1, tzinfo=UTC),
         "published_at": datetime(2027, 1, 21, tzinfo=UTC)},
        {"agencies": ["council"], "status": "published",
         "closed_at": datetime(2027, 1, 1, tzinfo=UTC),
         "published_at": datetime(2027, 2, 10, tzinfo=UTC)},
        {"agencies": ["police"], "status": "draft",
         "closed_at": datetime(2027, 1, 15, tzinfo=UTC), "published_at": None},
        {"agencies": ["police"], "status": "draft",
         "closed_at": datetime(2027, 2, 20, tzinfo=UTC), "published_at": None},
    ]
    commitments = [
        {"agency": "council", "status": "done", "due_on": date(2027, 2, 1),
         "done_on": date(2027, 1, 30)},
        {"agency": "council", "status": "done", "due_on": date(2027, 2, 1),
         "done_on": date(2027, 2, 5)},
        {"agency": "council", "status": "in_progress", "due_on": date(2027, 2, 20),
         "done_on": None},
        {"agency": "police", "status": "planned", "due_on": date(2027, 6, 1), "done_on": None},
        {"agency": "police", "status": "dropped", "due_on": date(2027, 6, 1), "done_on": None},
    ]
    rows = {row["agency"]: row for row in scoreboard(reports, commitments, now=now,
                                                      overdue_days=30)}
    assert rows["council"] == {
        "agency": "council", "surveys_closed": 3, "reports_published": 3,
        "median_days_to_publish": 20.0, "overdue_reports": 0, "commitments": 3,
        "commitments_done": 2, "commitments_on_time": 1, "commitments_late": 2,
        "commitments_dropped": 0}
    assert rows["police"]["surveys_closed"] == 3
    assert rows["police"]["reports_published"] == 1
    assert rows["police"]["median_days_to_publish"] == 10.0
    assert rows["police"]["overdue_reports"] == 1  # closed 45 days ago; the other 9 days ago
    assert (rows["police"]["commitments_on_time"], rows["police"]["commitments_dropped"]) == (1, 1)


def joint_report(apps, clients, pump) -> tuple[dict, str]:
    """The agencies' keys, and the API address of the report of a survey the council and the
    police sponsored."""
    keys = setup_agencies(apps, pump)
    close_survey(pump, sponsors=("council", "police"))
    report = only_report(clients["feedback"], keys["council"]["officer"])
    return keys, f"/api/v1/reports/{report['id']}"


def test_commitments_are_tracked_to_done_or_dropped_with_a_reason(apps, clients, pump):
    keys, report = joint_report(apps, clients, pump)
    base = f"{report}/commitments"
    officer = bearer(keys["council"]["officer"])
    feedback = clients["feedback"]

    elsewhere = feedback.post(base, headers=officer, json={
        "action": "Run a mobile library", "agency": "college", "due_on": "2027-03-01"})
    assert elsewhere.status_code == 422 and "agency" in elsewhere.json["errors"]["json"]
    missing = feedback.post(base, headers=officer, json={"action": "Open earlier"})
    assert missing.status_code == 422
    assert set(missing.json["errors"]["json"]) == {"agency", "due_on"}

    lights = feedback.post(base, headers=officer, json={
        "action": "Open at 8am on weekdays", "agency": "council", "due_on": "2027-02-01"}).json
    patrols = feedback.post(base, headers=officer, json={
        "action": "Patrol the library car park", "agency": "police",
        "due_on": "2027-03-01"}).json
    assert lights["status"] == "planned" and lights["timing"] == "on_time"

    # Only the agency that made a commitment reports its progress.
    assert feedback.post(f"{base}/{patrols['id']}/updates", headers=officer, json={
        "text": "Started.", "status": "in_progress"}).status_code == 403
    police = bearer(keys["police"]["officer"])
    dropped = feedback.post(f"{base}/{patrols['id']}/updates", headers=police,
                            json={"text": "Not going ahead.", "status": "dropped"})
    assert dropped.status_code == 422 and "reason" in dropped.json["errors"]["json"]
    assert feedback.post(f"{base}/{patrols['id']}/updates", headers=police, json={
        "text": "Not going ahead.", "status": "dropped",
        "reason": "The car park is closing for rebuilding."}).status_code == 201
    for text, status, on in (("Rotas agreed.", "in_progress", "2027-01-10"),
                             ("Opening at 8am.", "done", "2027-01-25")):
        assert feedback.post(f"{base}/{lights['id']}/updates", headers=officer, json={
            "text": text, "status": status, "written_on": on}).status_code == 201
        if status == "in_progress":  # under way: it cannot be merely planned again
            back = feedback.post(f"{base}/{lights['id']}/updates", headers=officer,
                                 json={"text": "On hold.", "status": "planned"})
            assert back.status_code == 409 and "planned" in back.json["message"]
    again = feedback.post(f"{base}/{lights['id']}/updates", headers=officer,
                          json={"text": "Reopened.", "status": "in_progress"})
    assert again.status_code == 409

    shown = {c["action"]: c
             for c in feedback.get(report, headers=officer).json["commitments"]}
    done = shown["Open at 8am on weekdays"]
    assert (done["status"], done["done_on"], done["timing"]) == ("done", "2027-01-25", "on_time")
    assert [u["written_on"] for u in done["updates"]] == ["2027-01-10", "2027-01-25"]
    assert shown["Patrol the library car park"]["dropped_reason"] == (
        "The car park is closing for rebuilding.")

    analyst = bearer(keys["council"]["analyst"])
    assert feedback.post(base, headers=analyst, json={
        "action": "Open later", "agency": "council", "due_on": "2027-02-01"}).status_code == 403


def test_a_commitment_or_progress_sent_twice_is_kept_once(apps, clients, pump):
    """A request repeated after its answer was lost (or a form sent twice) adds nothing."""
    keys, report = joint_report(apps, clients, pump)
    base = f"{report}/commitments"
    officer = bearer(keys["council"]["officer"])
    feedback = clients["feedback"]
    promise = {"action": "Open at 8am on weekdays", "agency": "council", "due_on": "2027-02-01"}

    first = feedback.post(base, headers=officer, json=promise)
    assert first.status_code == 201
    again = feedback.post(base, headers=officer, json={
        **promise, "action": "  open at 8am   on WEEKDAYS "})
    assert again.status_code == 409
    assert again.json["errors"]["json"]["action"] == [f"already commitment {first.json['id']}"]
    # The same action for another agency, or due another day, is another promise.
    assert feedback.post(base, headers=officer, json={
        **promise, "due_on": "2027-06-01"}).status_code == 201
    assert feedback.post(base, headers=officer, json={
        **promise, "agency": "police"}).status_code == 201

    updates = f"{base}/{first.json['id']}/updates"
    progress = {"text": "Rotas agreed.", "status": "in_progress", "written_on": "2027-01-10"}
    recorded = feedback.post(updates, headers=officer, json=progress)
    assert recorded.status_code == 201
    replayed = feedback.post(updates, headers=officer, json=progress)
    assert replayed.status_code == 409
    assert replayed.json["errors"]["json"]["text"] == [f"already update {recorded.json['id']}"]
    # Next day's news in the same words is news.
    assert feedback.post(updates, headers=officer, json={
        **progress, "written_on": "2027-01-11"}).status_code == 201

    shown = feedback.get(report, headers=officer).json["commitments"]
    assert sorted((c["agency"], c["due_on"]) for c in shown) == [
        ("council", "2027-02-01"), ("council", "2027-06-01"), ("police", "2027-02-01")]
    kept = next(c for c in shown if c["id"] == first.json["id"])
    assert [u["written_on"] for u in kept["updates"]] == ["2027-01-10", "2027-01-11"]
    paths = feedback.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/reports/{report_id}/commitments",
                 "/api/v1/reports/{report_id}/commitments/{commitment_id}/updates"):
        assert "409" in paths[path]["post"]["responses"], path  # a client can expect it


def test_the_public_scoreboard_shows_each_agency(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    close_survey(pump, sponsors=("council", "police"), survey_id=1,
                 closed_at=datetime.now(UTC) - timedelta(days=10))
    close_survey(pump, sponsors=("police",), survey_id=2,
                 closed_at=datetime.now(UTC) - timedelta(days=45))
    officer = keys["council"]["officer"]
    report = next(r for r in clients["feedback"].get("/api/v1/reports",
                                                     headers=bearer(officer)).json)
    assert complete_and_publish(clients["feedback"], officer, report["id"]).status_code == 200

    rows = {r["agency"]: r for r in clients["feedback"].get("/api/v1/public/scoreboard").json}
    assert (rows["council"]["reports_published"], rows["council"]["overdue_reports"]) == (1, 0)
    assert (rows["police"]["surveys_closed"], rows["police"]["overdue_reports"]) == (2, 1)
    assert rows["council"]["median_days_to_publish"] == 10.0
    page = clients["feedback"].get("/scoreboard")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "How each agency keeps its promises" in text and "police" in text
    assert '<strong class="govuk-tag govuk-tag--red">1</strong>' in text
