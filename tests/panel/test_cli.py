"""Panel's CLI: census margins reach surveys exactly as an upload's do, bad rows are named,
and demo members and a member import run by hand."""

from __future__ import annotations

from sqlalchemy import func, select

from services.panel.models import Member, MemberImport
from services.surveys.models import PopulationTarget as SurveysTarget
from shared.db import new_session
from tests.panel.test_targets import DEMO_FILE


def test_targets_imported_by_hand_reach_surveys_like_an_upload(apps, pump, tmp_path):
    result = apps["panel"].test_cli_runner().invoke(args=["targets", "import", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("targets for 20 areas (census-2021)")
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SurveysTarget)) > 0


def test_a_bad_census_file_by_hand_names_each_line_and_stores_nothing(apps, pump, tmp_path):
    path = tmp_path / "census.csv"
    path.write_text("vintage,area,dimension,category,population\n"
                    "census-2021,Riverside,age_band,25-34,100\n")
    result = apps["panel"].test_cli_runner().invoke(args=["targets", "import", str(path)])
    assert result.exit_code == 1
    assert "line 2: area:" in result.output
    pump()
    with apps["surveys"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(SurveysTarget)) == 0


def test_demo_members_are_added_once(apps):
    runner = apps["panel"].test_cli_runner()
    assert runner.invoke(args=["demo", "members", "--count", "5"]).output.strip() \
        == "added 5 synthetic members"
    again = runner.invoke(args=["demo", "members", "--count", "5"])
    assert again.output.strip() == "panel already has 5 members; none added"


def test_a_member_import_by_hand_prints_progress_and_each_bad_row(apps, tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text("external_id,email,preferred_channel,consent_surveys,consent_outcomes,"
                    "age_band,gender,ethnicity,disability,area\n"
                    "p1,one@example.org,email,true,true,25-34,female,white,not_disabled,"
                    "E05001001\n"
                    "p2,not-an-email,email,true,true,25-34,male,white,not_disabled,E05001001\n")
    result = apps["panel"].test_cli_runner().invoke(
        args=["members", "import", str(path), "--agency", "council"])
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output and "line 3: email:" in result.output
    assert "finished: 1 added, 0 updated, 1 problem(s)" in result.output
    with apps["panel"].app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        assert session.scalar(select(MemberImport.status)) == "finished"
