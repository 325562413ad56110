"""The texts people receive: Welsh has every one English has, and a template never sends a
message with a hole in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import UndefinedError

from services.panel.messaging import TEMPLATES, render
from services.surveys.models import Question
from services.surveys.sms_dialogue import Reading, hint, read_reply, words
from shared.catalogues import catalogue_path
from shared.profile import LANGUAGES
from tests.panel.test_joining import CONTEXTS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("panel", "surveys")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def english_texts(service: str) -> set[str]:
    """Every text of the service's code and templates, as `pybabel extract` finds them."""
    service_dir = ROOT / "services" / service
    with (service_dir / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return {message for _, _, message, *_ in extract_from_dir(service_dir, method_map,
                                                              options_map)}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
@pytest.mark.parametrize("service", SERVICES)
def test_every_text_english_has_is_translated(service, language):
    english = english_texts(service)
    assert len(english) > 5  # the extraction found the texts, not nothing
    with catalogue_path(ROOT / "services" / service, language).open("rb") as po:
        catalogue = read_po(po, locale=language)
    translated = {m.id: m for m in catalogue if m.id}
    assert sorted(english - set(translated)) == [], "texts with no translation"
    assert sorted(set(translated) - english) == [], "translations of texts no longer used"
    for text, message in translated.items():
        assert message.string and not message.fuzzy, f"not translated yet: {text!r}"
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(text)), text


def full_context(template: str) -> dict:
    return CONTEXTS.get(template, CONTEXTS["invitation"])


@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("template", [t for t in TEMPLATES if t != "dialogue"])
def test_every_message_is_written_in_welsh_for_a_welsh_member(template, channel):
    english = render(template, channel, full_context(template), "http://l.test/x",
                     unsubscribe="http://u.test/y")
    welsh = render(template, channel, full_context(template), "http://l.test/x",
                   language="cy", unsubscribe="http://u.test/y")
    assert welsh[1] != english[1] and welsh[0] != english[0]
    assert "Hello" not in welsh[1] and "Reply STOP" not in welsh[1]
    if template not in ("confirm_join", "already_joined"):
        assert "Parks" in welsh[0] and "Parks" in welsh[1]
    if channel == "email":
        assert welsh[1].endswith("I atal pob neges gan bob asiantaeth: http://u.test/y")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["invitation", "reminder", "outcome", "progress"])
def test_a_context_missing_a_placeholder_is_an_error_not_a_blank(template, language):
    with pytest.raises(UndefinedError, match="is undefined"):
        render(template, "email", {"survey_title": "Parks"} if template != "reminder" else {},
               "http://l.test/x", language=language)


def test_an_invitation_without_a_decision_date_does_not_say_due_by_nothing():
    context = {**CONTEXTS["invitation"], "decision_due": ""}
    _, body = render("invitation", "email", context, "http://l.test/x")
    assert "It will inform this decision: The parks budget.\n" in body and "due by" not in body


def test_the_sms_dialogue_speaks_welsh_to_a_welsh_member():
    number = Question(code="visits", type="number", text="How many visits?", required=False,
                      min_value=0, max_value=31, translations={})
    choice = Question(code="priority", type="single_choice", text="Spend on?", required=True,
                      options=["Street lighting", "Police patrols"], translations={})
    assert hint(number, "cy") == "Atebwch gyda rhif cyfan o 0 i 31."
    assert hint(number, "en") == "Reply with a whole number from 0 to 31."
    assert hint(choice, "cy") == "Atebwch 1 Street lighting, 2 Police patrols."
    assert read_reply(choice, "skip", "cy") == Reading(problem="Mae angen ateb i hwn.")
    assert set(words("cy")) == set(words("en"))
    assert all(words("cy")[name] != words("en")[name] for name in words("en"))
