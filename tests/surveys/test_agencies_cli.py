"""Surveys' agencies commands: an agency added before panel was told of names gets its name
in panel's pages once announced."""

from __future__ import annotations

from services.panel.survey_respondents import known_agency_names
from services.surveys.models import Agency
from shared.db import new_session


def test_agencies_announced_by_hand_are_named_in_panel(apps, pump):
    with apps["surveys"].app_context(), new_session() as session:
        # As agencies were added before surveys announced names to panel.
        session.add_all([Agency(slug="council", name="Riverside Council"),
                         Agency(slug="police", name="Riverside Police")])
        session.commit()
    pump()
    with apps["panel"].app_context(), new_session() as session:
        assert known_agency_names(session) == {}
    result = apps["surveys"].test_cli_runner().invoke(args=["agencies", "announce"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "announced 2 agencies to panel: council, police"
    pump()
    with apps["panel"].app_context(), new_session() as session:
        assert known_agency_names(session) == {"council": "Riverside Council",
                                               "police": "Riverside Police"}
