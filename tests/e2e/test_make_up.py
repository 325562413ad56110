"""What `make up` prints: a demo link that opens the survey's questions, on every run."""

from __future__ import annotations

from services.surveys.demo import DEMO_SURVEY_TITLE
from tests.panel.factories import make_members
from tests.surveys.test_respond import page_form


def demo_link(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "link", "--wait", "0"])
    assert result.exit_code == 0, result.output
    return result.output.strip().removeprefix(f"{app.config['SURVEYS_URL']}")


def test_the_demo_link_is_of_an_invitation_nobody_has_answered(apps, clients, pump):
    make_members(apps["panel"], 3)
    assert apps["surveys"].test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    pump()
    first = demo_link(apps["surveys"])
    token = first.removeprefix("/r/")
    form = page_form(clients["surveys"], token, feel_safe_after_dark="4",
                     spend_priority="Better street lighting")
    assert clients["surveys"].post(first, data=form).status_code == 303

    # A second `make up` seeds again and prints a link: not the answered one.
    assert apps["surveys"].test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    second = demo_link(apps["surveys"])
    assert second != first
    page = clients["surveys"].get(second)
    assert page.status_code == 200 and DEMO_SURVEY_TITLE in page.data.decode()
