"""One vocabulary for the profile: each rule lives in shared/profile.py and every place that
reads a profile (API, CSV import, join page, census file, SMS join, analysis) follows it."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.panel.schemas import ImportRowSchema, JoinFormSchema, MemberCreateSchema
from services.panel.targets import row_problems
from services.surveys import analysis
from shared.config import ConfigError, settings_from_env
from shared.messages import PROFILE_DIMENSIONS as CONTRACT_DIMENSIONS
from shared.messages import read_message
from shared.profile import (
    CATEGORIES,
    LANGUAGES,
    PROFILE_DIMENSIONS,
    ExtraAttribute,
    category_label,
    contact_data_kind,
    extra_problems,
    is_area_code,
    parse_extra_attributes,
)

GOOD = {"age_band": "25-34", "gender": "female", "ethnicity": "white",
        "disability": "not_disabled", "area": "E05001001", "deprivation_decile": "3",
        "tenure": "owned"}
AREA_CODES = ("E05001001", "W05000999", "e05001001", "E0500100", "E050010011", "S05001001",
              "E06001001", "Riverside", " E05001001x")


def _accepts(schema_name: str, field: str, value: str) -> bool:
    """Whether one of the three profile schemas takes this value for this profile field."""
    profile = {**GOOD, field: value}
    if schema_name == "api":
        payload = {"email": "a@example.org", "preferred_channel": "email", "profile": profile,
                   "consent": {"surveys": True, "outcomes": True}}
        schema = MemberCreateSchema()
    elif schema_name == "import":
        payload = {"external_id": "X1", "email": "a@example.org", "preferred_channel": "email",
                   "consent_surveys": "yes", "consent_outcomes": "no", **profile}
        schema = ImportRowSchema()
    else:
        payload = {"email": "a@example.org", "preferred_channel": "email",
                   "consent_surveys": "yes", **profile}
        schema = JoinFormSchema()
    try:
        schema.load(payload)
    except ValidationError:
        return False
    return True


def _candidates(dimension: str) -> list[str]:
    if dimension == "area":
        return list(AREA_CODES)
    return [*CATEGORIES[dimension], "nonsense", CATEGORIES[dimension][0].upper(), "0", "11"]


@pytest.mark.parametrize("dimension", PROFILE_DIMENSIONS)
def test_api_import_and_join_page_accept_exactly_the_same_values(panel_app, dimension):
    with panel_app.app_context():
        for value in _candidates(dimension):
            verdicts = {name: _accepts(name, dimension, value)
                        for name in ("api", "import", "join")}
            assert len(set(verdicts.values())) == 1, (dimension, value, verdicts)
            expected = is_area_code(value) if dimension == "area" \
                else value in CATEGORIES[dimension]
            assert verdicts["api"] is expected, (dimension, value)


def test_language_is_one_rule_in_all_three_schemas(panel_app):
    with panel_app.app_context():
        for value in (*LANGUAGES, "fr", "english", "EN"):
            verdicts = set()
            for name, schema, payload in (
                    ("api", MemberCreateSchema(), {
                        "email": "a@example.org", "preferred_channel": "email", "profile": GOOD,
                        "consent": {"surveys": True, "outcomes": True}}),
                    ("import", ImportRowSchema(), {
                        "external_id": "X1", "email": "a@example.org",
                        "preferred_channel": "email", "consent_surveys": "yes",
                        "consent_outcomes": "no", **GOOD}),
                    ("join", JoinFormSchema(), {"email": "a@example.org",
                                                "preferred_channel": "email",
                                                "consent_surveys": "yes", **GOOD})):
                try:
                    schema.load({**payload, "language": value})
                    verdicts.add((value in LANGUAGES, True))
                except ValidationError as exc:
                    assert "language" in exc.messages, name
                    verdicts.add((value in LANGUAGES, False))
            assert verdicts == {(value in LANGUAGES, value in LANGUAGES)}, value


def test_census_rows_follow_the_same_categories_and_area_code_rule():
    for dimension, categories in CATEGORIES.items():
        for category in categories:
            row = {"vintage": "v", "area": "E05001001", "dimension": dimension,
                   "category": category, "population": "1"}
            assert row_problems(row) == []
    for code in AREA_CODES:
        row = {"vintage": "v", "area": code, "dimension": "gender", "category": "male",
               "population": "1"}
        assert (row_problems(row) == []) is is_area_code(code), code


def test_the_sms_join_dialogue_takes_ward_codes_by_the_same_rule(apps, clients, sms_gateway):
    from tests.panel.test_sms import text_in

    for n, (code, accepted) in enumerate((("W05000999", True), ("S05001001", False),
                                          ("E0500100", False), ("e05001002", True))):
        phone = f"+44770090{n:04d}"
        for answer in ("JOIN", "30", "F", "W", "N"):
            text_in(clients, sms_gateway, phone, answer)
        reply = text_in(clients, sms_gateway, phone, code).data.decode()
        assert ("Reply YES to join" in reply) is accepted, code
        assert accepted is is_area_code(code.upper())


def test_every_service_reads_one_list_of_dimensions_and_categories_in_natural_order():
    assert CONTRACT_DIMENSIONS is PROFILE_DIMENSIONS
    assert analysis.PROFILE_FIELDS is PROFILE_DIMENSIONS
    assert analysis.CATEGORY_ORDER is CATEGORIES
    assert CATEGORIES["deprivation_decile"] == tuple(str(d) for d in range(1, 11))
    assert category_label("deprivation_decile", "1") == "Decile 1 (most deprived)"
    assert category_label("area", "E05001001", {"E05001001": "Riverside Central"}) \
        == "Riverside Central"
    for dimension, categories in CATEGORIES.items():
        assert all(category_label(dimension, c) for c in categories)


def test_extra_attributes_setting_is_read_once_with_names_and_values_or_a_type():
    declared = settings_from_env("panel", {
        "PROFILE_EXTRA_ATTRIBUTES": "carer=yes|no; household_size=integer;club=text"
    })["PROFILE_EXTRA_ATTRIBUTES"]
    assert declared == {"carer": ExtraAttribute("carer", ("yes", "no")),
                        "household_size": ExtraAttribute("household_size", kind="integer"),
                        "club": ExtraAttribute("club", kind="text")}
    assert settings_from_env("panel", {})["PROFILE_EXTRA_ATTRIBUTES"] == {}
    for bad in ("carer", "carer=yes", "Carer=yes|no", "area=a|b", "x=yes|no;x=integer",
                "contact=a@example.org|none"):
        with pytest.raises(ConfigError, match="PROFILE_EXTRA_ATTRIBUTES"):
            settings_from_env("panel", {"PROFILE_EXTRA_ATTRIBUTES": bad})


def test_extras_refuse_undeclared_names_and_anything_like_contact_data():
    declared = parse_extra_attributes("carer=yes|no;household_size=integer;club=text")
    assert extra_problems({"carer": "yes", "household_size": "4", "club": "Chess"},
                          declared) == {}
    problems = extra_problems({"email": "x", "carer": "maybe", "household_size": "07700900123",
                               "club": "see www.example.net"}, declared)
    assert set(problems) == {"email", "carer", "household_size", "club"}
    assert "declared: carer, household_size, club" in problems["email"]
    assert problems["household_size"] == "must be a whole number from 0 to 999,999"
    assert "web address" in problems["club"]
    for number in ("99999999999999999999", "²", "-1", "1e3"):
        assert extra_problems({"household_size": number}, declared) == {
            "household_size": "must be a whole number from 0 to 999,999"}, number
    assert extra_problems({"household_size": "999999"}, declared) == {}


@pytest.mark.parametrize("text,kind", [
    ("sam@example.net", "an email address"), ("07700 900123", "a phone number"),
    ("+44 161 496 0123", "a phone number"), ("0800 123 4567", "a phone number"),
    ("SW1A 1AA", "a postcode"), ("m1 1ae", "a postcode"), ("https://x.test", "a web address"),
    ("www.example.org", "a web address"), ("Allotment society", None), ("3", None),
    ("born 1984", None), ("E05001001", None),
])
def test_contact_data_is_recognised_in_free_text(text, kind):
    assert contact_data_kind(text) == kind


def test_an_older_population_targets_message_without_area_names_still_loads():
    from shared.messages import build_message

    envelope = build_message("surveys.population_targets", {
        "vintage": "census-2021", "areas": {"E05001001": {"gender": {"male": 1.0}}}})
    assert "area_names" not in envelope["payload"]
    assert read_message("surveys.population_targets", envelope)["payload"]["area_names"] == {}
