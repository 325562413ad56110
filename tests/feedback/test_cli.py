"""Feedback's CLI: a panel manager's look at the reports, and the periodic work run by hand."""

from __future__ import annotations

from tests.feedback.closing import close_survey


def test_reports_list_shows_each_report_and_how_overdue_it_is(feedback_app, pump):
    close_survey(pump)  # closed on 1 November 2026, never published
    runner = feedback_app.test_cli_runner()
    listed = runner.invoke(args=["reports", "list"])
    assert listed.exit_code == 0, listed.output
    assert "draft" in listed.output and "Library opening hours" in listed.output
    assert "day(s) overdue" in listed.output


def test_flag_overdue_raises_a_flag_per_sponsor_when_run_by_hand(feedback_app, pump):
    close_survey(pump, sponsors=("council", "police"))
    result = feedback_app.test_cli_runner().invoke(args=["reports", "flag-overdue"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 overdue flag(s) raised or renewed"


def test_reports_list_says_when_there_are_none(feedback_app):
    result = feedback_app.test_cli_runner().invoke(args=["reports", "list"])
    assert "no reports yet" in result.output
