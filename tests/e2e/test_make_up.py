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


def test_each_demo_member_of_staff_signs_in_with_the_link_printed(apps, pump):
    surveys = apps["surveys"]
    assert surveys.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    pump()
    # A second `make up` seeds again: the same people, each with a fresh link.
    assert surveys.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    printed = surveys.test_cli_runner().invoke(args=["demo", "sign-in-links"])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.strip().splitlines()
    people, links = [line.strip() for line in lines[::2]], [line.strip() for line in lines[1::2]]
    assert people == [
        "Ada Adeyemi, admin, Riverside Borough Council (admin@riverside-council.example)",
        "Olu Okafor, officer, Riverside Borough Council (officer@riverside-council.example)",
        "Priya Shah, analyst, Riverside Borough Council (analyst@riverside-council.example)",
        "Sam Lee, panel manager, Riverside Borough Council (panel@riverside-council.example)",
        "Dee Morgan, decision owner, Riverside Borough Council "
        "(decisions@riverside-council.example)",
        "Rhys Evans, officer, Riverside Police (officer@riverside-police.example)",
    ]
    for person, link in zip(people, links, strict=True):
        browser = surveys.test_client()
        path = link.removeprefix(surveys.config["SURVEYS_URL"])
        assert path.startswith("/sign-in/")
        assert browser.post(path).status_code == 303
        console = browser.get("/surveys")
        name, _, agency = person.split(" (")[0].split(", ")
        assert console.status_code == 200
        assert f"{name}, {agency}" in console.get_data(as_text=True)
        assert browser.post(path).status_code == 400  # each link works once
