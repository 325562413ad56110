"""The question bank in the console: an officer adds a shared question through the page and
sees it listed as the API keeps it, with its answers by their labels and the surveys that
asked it; bad input is named against its field in the API's words; an analyst reads the
bank but is not offered, nor allowed, to add to it."""

from __future__ import annotations

import re
from datetime import datetime

from tests.scenario import bearer, survey_payload
from tests.staff import add_staff, sign_in
from tests.surveys.test_console_builder import new_draft, officer_signed_in, post


def card(page: str, code: str) -> str:
    """One bank question's card on the bank page, its tags removed."""
    found = re.search(rf'<div class="govuk-summary-card" id="bank-{code}">(.*?)</dl>', page,
                      re.S)
    assert found, page[:3000]
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_an_officer_adds_a_bank_question_and_sees_where_it_was_asked(apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    assert 'href="/question-bank"' in clients["surveys"].get("/surveys").data.decode()
    answer = post(clients, "/question-bank/new", {
        "text": "How safe do you feel walking alone after dark?", "code": "safe_after_dark",
        "type": "rating", "scale-min": "1", "scale-max": "3",
        "scale-labels": "Unsafe\nNeither\nSafe", "required": "yes",
        "translations-cy-text": "Pa mor ddiogel ydych chi'n teimlo ar ôl iddi dywyllu?",
        "translations-cy-labels": "Anniogel\nNa'r naill na'r llall\nDiogel"})
    assert answer.headers["Location"].endswith("/question-bank?added=safe_after_dark")
    # The API reads back what the page added, in the shape it takes.
    [stored] = clients["surveys"].get("/api/v1/question-bank",
                                      headers=bearer(keys["police"]["officer"])).json
    assert stored["code"] == "safe_after_dark" and stored["agency"] == "council"
    assert stored["definition"]["scale"] == {"min": 1, "max": 3,
                                             "labels": ["Unsafe", "Neither", "Safe"]}
    assert stored["definition"]["translations"]["cy"]["labels"][2] == "Diogel"
    clients["surveys"].post("/api/v1/question-bank", headers=bearer(keys["police"]["officer"]),
                            json={"code": "uses_bus", "type": "yes_no",
                                  "text": "Do you use the bus?"})

    # Asked in one of the council's drafts and in a police survey.
    survey_id = new_draft(clients, "Night-time safety")
    post(clients, f"/surveys/{survey_id}/build/questions/bank",
         {"bank_code": "safe_after_dark", "required": "yes"})
    payload = survey_payload(title="Police priorities", sponsors=(("police", "100"),))
    payload["questions"] = [{"bank_code": "uses_bus"}, {"bank_code": "safe_after_dark"}]
    assert clients["surveys"].post("/api/v1/surveys", headers=bearer(keys["police"]["officer"]),
                                   json=payload).status_code == 201

    page = clients["surveys"].get("/question-bank?added=safe_after_dark").data.decode()
    assert "safe_after_dark is in the question bank." in page
    assert card(page, "safe_after_dark") == (
        "How safe do you feel walking alone after dark? Code safe_after_dark "
        "Type of answer Rating scale Answers 1 – Unsafe 2 – Neither 3 – Safe "
        "In Welsh Pa mor ddiogel ydych chi&#39;n teimlo ar ôl iddi dywyllu? "
        f"Added by Riverside Council, {stored_day(stored)} "
        "Asked in Night-time safety (draft) Police priorities (Riverside Police, draft)")
    # The council's own survey is a link; the police's is named, not linked.
    assert f'<a class="govuk-link" href="/surveys/{survey_id}">Night-time safety</a>' in page
    assert "Answers Yes No" in card(page, "uses_bus")
    assert "Added by Riverside Police" in card(page, "uses_bus")
    # The builder's questions page links to the bank.
    questions = clients["surveys"].get(f"/surveys/{survey_id}/build/questions").data.decode()
    assert 'href="/question-bank"' in questions


def stored_day(stored: dict) -> str:
    day = datetime.fromisoformat(stored["created_at"])
    return f"{day.day} {day:%B %Y}"


def test_bad_bank_questions_are_named_in_the_api_s_words_and_nothing_is_added(
        apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump)
    page = post(clients, "/question-bank/new", {
        "text": "Which?", "code": "Bad Code", "type": "single_choice", "options": "Only"},
        status=400).data.decode()
    assert "<title>Error:" in page and "There is a problem" in page
    assert '<a href="#code">Question code: Use lower-case letters, digits and _ ' \
           '(like feel_safe).</a>' in page
    # What was typed is shown again.
    assert 'value="Which?"' in page and ">Only</textarea>" in page
    api = clients["surveys"].post("/api/v1/question-bank",
                                  headers=bearer(keys["council"]["officer"]),
                                  json={"code": "route", "type": "single_choice",
                                        "text": "Which route?", "options": ["Only"]})
    assert api.status_code == 422
    [words] = api.json["errors"]["json"]["options"]
    page = post(clients, "/question-bank/new", {
        "text": "Which route?", "code": "route", "type": "single_choice", "options": "Only"},
        status=400).data.decode()
    assert f'<a href="#options">Options: {words}</a>' in page

    post(clients, "/question-bank/new", {"text": "Do you drive?", "code": "drives",
                                         "type": "yes_no"})
    taken = post(clients, "/question-bank/new", {"text": "Do you drive a car?",
                                                 "code": "drives", "type": "yes_no"},
                 status=400).data.decode()
    assert '<a href="#code">Question code: drives exists already.</a>' in taken
    bank = clients["surveys"].get("/api/v1/question-bank",
                                  headers=bearer(keys["council"]["officer"])).json
    assert [(b["code"], b["definition"]["text"]) for b in bank] == [("drives", "Do you drive?")]


def test_an_analyst_reads_the_bank_but_cannot_add_to_it(apps, clients, pump):
    keys = officer_signed_in(apps, clients, pump, role="analyst")
    clients["surveys"].post("/api/v1/question-bank", headers=bearer(keys["health"]["officer"]),
                            json={"code": "wellbeing", "type": "rating",
                                  "text": "How satisfied are you with life nowadays?",
                                  "scale": {"min": 0, "max": 10}})
    page = clients["surveys"].get("/question-bank").data.decode()
    assert "How satisfied are you with life nowadays?" in page
    assert "Added by Riverside Health" in card(page, "wellbeing")
    assert "Add a question to the bank" not in page
    assert clients["surveys"].get("/question-bank/new").status_code == 403
    assert clients["surveys"].post("/question-bank/new", data={
        "text": "Sneaked in?", "code": "sneaked", "type": "yes_no"}).status_code == 403
    # The API refuses the analyst's key the same way.
    assert clients["surveys"].post("/api/v1/question-bank",
                                   headers=bearer(keys["council"]["analyst"]),
                                   json={"code": "sneaked", "type": "yes_no",
                                         "text": "Sneaked in?"}).status_code == 403
    add_staff(apps, email="officer@council.example", agency="council", role="officer")
    sign_in(apps, clients, "officer@council.example")
    assert "Add a question to the bank" in clients["surveys"].get("/question-bank").data.decode()
