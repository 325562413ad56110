"""Contact details typed into free-text answers are taken out before anything is stored: on
the web page (both ways of saving, and "save and come back later") and by SMS through panel;
the page says so first, in the member's language; the officer sees how many went; a migration
cleans answers stored before."""

from __future__ import annotations

import pytest
from redis import Redis
from sqlalchemy import create_engine, select, text

from services import feedback, surveys
from services.surveys.models import Answer, Question, SavedAnswer
from shared.db import new_session, upgrade_database
from shared.free_text import PLACEHOLDERS, count_removed, remove_contact_details
from tests.scenario import add_members, setup_agencies
from tests.staff import add_staff, sign_in
from tests.surveys.steps import drawn, invitations, launch, member
from tests.surveys.test_console_launch import text as page_text
from tests.surveys.test_respond import page_form
from tests.surveys.test_sms_dialogue import DIALOGUE_QUESTIONS
from tests.surveys.test_sms_through_panel import last_text, text_panel
from tests.test_pii_boundary import _texts_of_database, _texts_of_redis

# (what a citizen typed, the kind that must go, what must be left of it)
TYPED = [
    ("Email me at jo.bloggs+council@example.org please", "email", "Email me at "),
    ("Ring 07700 900123 after six", "phone", "Ring "),
    ("my landline is (029) 2087 2087", "phone", "my landline is "),
    ("call +44 20 7946 0958 or +1 415 555 2671", "phone", "call "),
    ("from abroad: 0033 1 23 45 67 89", "phone", "from abroad: "),
    ("a drama number 7700900401", "phone", "a drama number "),
    ("I live at CF10 1AA, near SW1A2AA", "postcode", "I live at "),
    ("see https://example.org/page?id=4 and www.cardiff.gov.uk.", "link", "see "),
    ("our group is on riverside-residents.org.uk/meet", "link", "our group is on "),
]
KEPT = ["The 2019 plan cost 1,000,000 pounds and 30 people came",
        "Route 66 buses at 7.30 are always late; 999 took 20 minutes",
        "Mae angen mwy o olau ar y stryd, yn enwedig ger yr orsaf"]
SECRETS = ["jo.bloggs+council@example.org", "07700 900123", "2087 2087", "7946 0958",
           "415 555 2671", "23 45 67 89", "7700900401", "CF10 1AA", "SW1A2AA",
           "example.org/page", "cardiff.gov.uk", "riverside-residents.org.uk"]


@pytest.mark.parametrize(("typed", "kind", "left"), TYPED)
def test_each_kind_of_contact_detail_is_replaced_by_its_placeholder(typed, kind, left):
    cleaned = remove_contact_details(typed)
    assert cleaned.text.startswith(left + PLACEHOLDERS[kind])
    assert cleaned.removed[kind] >= 1 and set(cleaned.removed) == {kind}
    assert not any(secret in cleaned.text for secret in SECRETS)
    assert count_removed(cleaned.text) == cleaned.removed


@pytest.mark.parametrize("typed", KEPT)
def test_ordinary_words_and_numbers_are_left_as_they_are(typed):
    assert remove_contact_details(typed).text == typed


def every_kind() -> str:
    return " | ".join(typed for typed, _, _ in TYPED)


def stored_texts(apps, redis_url: str) -> list[tuple[str, str]]:
    return (_texts_of_database(apps["surveys"], surveys)
            + _texts_of_database(apps["feedback"], feedback)
            + _texts_of_redis(Redis.from_url(redis_url)))


def leaks(texts) -> list[str]:
    return [f"{secret} in {where}" for where, found in texts for secret in SECRETS
            if secret.lower() in found.lower()]


def saved_values(apps, model) -> list[str]:
    with apps["surveys"].app_context(), new_session() as session:
        return list(session.scalars(select(model.value).join(
            Question, Question.id == model.question_id).where(Question.type == "free_text")))


def web_links(apps, clients, pump, count: int = 3, language: str = "en", **changes):
    survey_id, officer, keys = launch(apps, clients, pump, **changes)
    drawn(pump, survey_id, [member(language=language) for _ in range(count)])
    return survey_id, keys, [i.token for i in invitations(apps["surveys"], survey_id)]


def test_the_page_says_contact_details_are_removed_before_anything_is_sent(
        apps, clients, pump):
    _, _, tokens = web_links(apps, clients, pump, count=1)
    page = clients["surveys"].get(f"/r/{tokens[0]}")
    words = page_text(page)
    assert ("Anything else? (optional) Do not include your name or contact details. Email "
            "addresses, phone numbers, postcodes and web links are removed from your answer "
            "before it is saved.") in words
    assert 'aria-describedby="comments-contact"' in page.get_data(as_text=True)


def test_contact_details_never_reach_surveys_or_redis_from_the_web_page(
        apps, clients, pump, redis_server):
    survey_id, keys, tokens = web_links(apps, clients, pump, count=3)
    typed = every_kind()
    # The page's own form (one statement on PostgreSQL), the long way (no questionnaire
    # version), and "save and come back later".
    form = page_form(clients["surveys"], tokens[0], feel_safe="4", priority="Street lighting",
                     comments=typed)
    assert clients["surveys"].post(f"/r/{tokens[0]}", data=form).status_code == 303
    assert clients["surveys"].post(f"/r/{tokens[1]}", data={
        "feel_safe": "3", "priority": "Police patrols", "comments": typed}).status_code == 303
    kept = clients["surveys"].post(f"/r/{tokens[2]}", data={"comments": typed,
                                                            "action": "save"})
    assert kept.status_code == 200
    sent, later = saved_values(apps, Answer), saved_values(apps, SavedAnswer)
    assert len(sent) == 2 and len(later) == 1
    for value in sent + later:
        assert count_removed(value) == {"email": 1, "phone": 6, "postcode": 2, "link": 3}
        assert "Ring [phone number removed] after six" in value
    # The saved progress comes back to the member cleaned too.
    assert "[email address removed]" in clients["surveys"].get(f"/r/{tokens[2]}").get_data(
        as_text=True)
    assert leaks(stored_texts(apps, redis_server.url)) == []


def test_a_welsh_page_says_it_in_welsh_and_puts_welsh_placeholders(apps, clients, pump):
    _, _, tokens = web_links(apps, clients, pump, count=1, language="cy",
                             languages=["en", "cy"], translations={"cy": {
                                 "title": "Teimlo'n ddiogel", "summary": "Helpwch ni."}})
    page = page_text(clients["surveys"].get(f"/r/{tokens[0]}"))
    assert "Peidiwch â chynnwys eich enw na'ch manylion cyswllt." in page
    form = page_form(clients["surveys"], tokens[0], feel_safe="4", priority="Street lighting",
                     comments="Ffoniwch fi ar 07700 900123 neu e-bost jo@example.org")
    assert clients["surveys"].post(f"/r/{tokens[0]}", data=form).status_code == 303
    assert saved_values(apps, Answer) == [
        "Ffoniwch fi ar [rhif ffôn wedi'i dynnu] neu e-bost [cyfeiriad e-bost wedi'i dynnu]"]


def test_contact_details_texted_as_an_answer_never_leave_panel(
        apps, clients, pump, sms_gateway, redis_server):
    keys = setup_agencies(apps, pump)
    add_members(clients["panel"], keys["council"]["panel_manager"], 1, sms_every=1)
    launch(apps, clients, pump, keys=keys, sample_size=1, channels=["sms_dialogue"],
           questions=DIALOGUE_QUESTIONS)
    pump()
    for body in ("4", "two", "n", "1", every_kind()):
        text_panel(clients, sms_gateway, body)
        pump()
    assert last_text(sms_gateway).startswith("Thank you, your answers are saved.")
    [comment] = saved_values(apps, Answer)
    assert count_removed(comment) == {"email": 1, "phone": 6, "postcode": 2, "link": 3}
    assert leaks(stored_texts(apps, redis_server.url)) == []


def test_the_officer_sees_how_many_contact_details_were_removed(apps, clients, pump):
    survey_id, keys, tokens = web_links(apps, clients, pump, count=2)
    for token in tokens:
        clients["surveys"].post(f"/r/{token}", data={
            "feel_safe": "4", "priority": "Street lighting",
            "comments": "Call 07700 900123 or 07700 900456, or write to a@example.org"})
    add_staff(apps, email="olu@council.example", agency="council", role="officer")
    sign_in(apps, clients, "olu@council.example")
    words = page_text(clients["surveys"].get(f"/surveys/{survey_id}"))
    assert ("Contact details removed From free-text answers: phone numbers: 4; "
            "email addresses: 2") in words


def test_the_migration_cleans_answers_stored_before_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'surveys.db'}"
    upgrade_database(url, surveys.MIGRATIONS_DIR, revision="a6c3e0b9d418")
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO agencies (slug, name, created_at) VALUES "
                        "('council', 'Council', '2026-01-01')"))
        db.execute(text(
            "INSERT INTO surveys (id, title, summary, lead_agency, sample_size, status, "
            "created_at, areas, topics, quotas, channels, reminder_days, languages, "
            "translations, top_ups, open_to_join) VALUES (1, 'T', '', 'council', 1, 'closed', "
            "'2026-01-01', '[]', '[]', '[]', '[]', '[]', '[\"en\"]', '{}', 0, 1)"))
        for qid, kind in ((1, "free_text"), (2, "single_choice")):
            db.execute(text(
                "INSERT INTO questions (id, survey_id, position, code, type, text, options, "
                "scale_labels, required, translations) VALUES "
                f"({qid}, 1, {qid}, 'q{qid}', '{kind}', 'Q', '[]', '[]', 0, '{{}}')"))
        db.execute(text(
            "INSERT INTO invitations (id, survey_id, member_ref, token, channel, profile, "
            "delivery_status, created_at, language, reminders_sent, dialogue_misses) VALUES "
            "(1, 1, 'r', 't', 'email', '{}', 'sent', '2026-01-01', 'en', 0, 0)"))
        db.execute(text("INSERT INTO responses (id, survey_id, invitation_id, channel, "
                        "submitted_at) VALUES (1, 1, 1, 'web', '2026-01-01')"))
        db.execute(text("INSERT INTO answers (response_id, question_id, value) VALUES "
                        "(1, 1, 'text 07700 900123 or jo@example.org'), "
                        "(1, 2, 'jo@example.org')"))
    upgrade_database(url, surveys.MIGRATIONS_DIR)
    with engine.begin() as db:
        values = dict(db.execute(text("SELECT question_id, value FROM answers")).all())
    engine.dispose()
    # The free-text answer is cleaned; a choice (never typed by the citizen) is left alone.
    assert values == {1: "text [phone number removed] or [email address removed]",
                      2: "jo@example.org"}
