"""Every operation of the three OpenAPI documents, fed generated good and bad input by
schemathesis as each kind of caller: never a server error, every answer as documented."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.scenario import bearer, member_payload, setup_agencies, survey_payload

SERVICES = ("panel", "surveys", "feedback")
CALLERS = ("no key", "officer", "analyst", "panel_manager", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Small and fixed, so the three documents times five callers take a few minutes on two cores;
# CIVICPANEL_FUZZ_EXAMPLES=50 runs the deeper search of the figures.
FUZZ_SETTINGS = settings(max_examples=int(os.environ.get("CIVICPANEL_FUZZ_EXAMPLES", "8")),
                         derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))


def caller_headers(apps, pump, caller: str) -> dict:
    if caller == "no key":
        return {}
    return bearer(setup_agencies(apps, pump)["council"][caller])


def failures_of(operation, mode: GenerationMode, headers: dict) -> tuple[list[str], int]:
    """What one operation got wrong under generated input (one line per distinct failure),
    and how many of its answers were server errors."""
    found: dict[str, str] = {}
    server_errors = 0

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal server_errors
        response = case.call(headers=headers)
        server_errors += response.status_code >= 500
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                title = f"{failure.__class__.__name__}: " + " ".join(str(failure).split())[:300]
                found.setdefault(title[:160], f"{operation.label} [{mode.value}] {title}\n"
                                 f"    {case.as_curl_command(headers=headers)}")

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid
        pass
    except InvalidSchema as exc:  # the document itself is wrong: nothing valid can be built
        found["schema"] = f"{operation.label} [{mode.value}] document: {exc}".splitlines()[0]
    return list(found.values()), server_errors


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("caller", CALLERS)
def test_no_input_makes_a_server_error_and_every_answer_is_documented(
        apps, pump, service, caller):
    headers = caller_headers(apps, pump, caller)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", apps[service])
    failures, server_errors = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found, errors = failures_of(operation, mode, headers)
            failures.extend(found)
            server_errors += errors
    assert not failures, (f"{server_errors} server errors, {len(failures)} distinct failures:\n"
                          + "\n".join(failures))


# The kinds of input schemathesis found making server errors, each asserted on its own so a
# regression names itself (the generated run above may not draw the same value again).

def test_ids_and_pages_beyond_the_databases_integers_are_clear_client_errors(
        apps, clients, pump):
    keys = setup_agencies(apps, pump)
    officer = bearer(keys["council"]["officer"])
    assert clients["surveys"].get(f"/api/v1/surveys/{2**31}", headers=officer).status_code == 404
    assert clients["surveys"].get(f"/api/v1/surveys/{10**30}", headers=officer).json["code"] == 404
    assert clients["feedback"].get(f"/you-said-we-did/{10**30}").status_code == 404
    page = clients["surveys"].get(f"/api/v1/surveys?page={10**30}", headers=officer)
    assert page.status_code == 200 and page.json == []
    tables = clients["surveys"].get(f"/api/v1/analysis/tables?survey_ids={10**30}&question=q",
                                    headers=bearer(keys["council"]["analyst"]))
    assert tables.status_code == 422 and "survey_ids" in tables.json["errors"]["query"]


@pytest.mark.parametrize("text, reason", [("a\x00b", "NUL"), ("a\ud800b", "surrogate")])
def test_text_no_database_can_store_is_refused_naming_the_field(apps, clients, pump, text,
                                                                reason):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["council"]["panel_manager"])
    body = member_payload(1) | {"external_id": text}
    added = clients["panel"].post("/api/v1/members", json=body, headers=manager)
    assert added.status_code == 400 and reason in added.json["message"]
    assert added.json["errors"] == {"json": {"external_id": [added.json["errors"]["json"]
                                                              ["external_id"][0]]}}
    if reason == "NUL":  # a query string cannot carry a lone surrogate
        listed = clients["feedback"].get("/api/v1/public/reports", query_string={"topic": text})
        assert listed.status_code == 400 and "topic" in listed.json["errors"]["query"]
        page = clients["feedback"].get("/you-said-we-did", query_string={"topic": text})
        assert page.status_code == 400 and b"topic must not contain a NUL" in page.data


def test_a_nul_in_a_citizens_free_text_answer_is_refused_and_nothing_saved(apps, clients, pump):
    from tests.surveys.test_respond import answer_count, launched

    _, _, tokens = launched(apps, clients, pump, members=1)
    sent = clients["surveys"].post(f"/r/{tokens[0]}", data={
        "feel_safe": "4", "priority": "Street lighting", "comments": "lights\x00please"})
    assert sent.status_code == 400 and b"comments must not contain a NUL" in sent.data
    assert answer_count(apps) == 0


def test_json_nested_too_deep_or_not_finite_is_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    officer = {**bearer(keys["council"]["officer"]), "Content-Type": "application/json"}
    deep = clients["surveys"].post("/api/v1/surveys", data="[" * 2000 + "]" * 2000,
                                   headers=officer)
    assert deep.status_code == 400 and "nested" in deep.json["message"]
    for number in ("1e400", "NaN", "-Infinity"):
        body = json.dumps(survey_payload(sample_size=1)).replace('"sample_size": 1',
                                                                 f'"sample_size": {number}')
        sent = clients["surveys"].post("/api/v1/surveys", data=body, headers=officer)
        assert sent.status_code == 400, number
        assert sent.json["errors"] == {"json": {"sample_size": ["must be a finite number"]}}


def test_numbers_and_lists_beyond_their_bounds_are_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    officer = bearer(keys["council"]["officer"])
    quota = survey_payload(quotas=[{"cell": {"gender": "female"}, "target": 10**30}])
    refused = clients["surveys"].post("/api/v1/surveys", json=quota, headers=officer)
    assert refused.status_code == 422 and "quotas" in refused.json["errors"]["json"]
    areas = survey_payload(areas=[f"E05{n:06d}" for n in range(100_000)])
    refused = clients["surveys"].post("/api/v1/surveys", json=areas, headers=officer)
    assert refused.status_code == 422 and "areas" in refused.json["errors"]["json"]


def test_a_population_that_is_not_a_finite_number_is_refused(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    for population in ("1e400", "nan", "inf"):
        body = ("vintage,area,dimension,category,population\n"
                f"census-2021,E05001001,gender,female,{population}\n").encode()
        sent = clients["panel"].post("/api/v1/population-targets", data=body, headers={
            **bearer(keys["council"]["panel_manager"]), "Content-Type": "text/csv"})
        assert sent.status_code == 422, population
        assert sent.json["errors"]["file"][0]["field"] == "population"
    assert clients["panel"].get("/representativeness").status_code == 200
    nul = clients["panel"].post("/api/v1/population-targets", headers={
        **bearer(keys["council"]["panel_manager"]), "Content-Type": "text/csv"},
        data=b"vintage,area,dimension,category,population\ncensus\x00,E05001001,gender,female,5\n")
    assert nul.status_code == 422 and "NUL" in nul.json["message"]


def test_a_second_member_with_the_same_external_id_is_a_conflict_naming_it(apps, clients, pump):
    keys = setup_agencies(apps, pump)
    manager = bearer(keys["council"]["panel_manager"])
    first = clients["panel"].post("/api/v1/members", headers=manager,
                                  json=member_payload(1) | {"external_id": "LIB-0001"})
    assert first.status_code == 201
    second = clients["panel"].post("/api/v1/members", headers=manager,
                                   json=member_payload(2) | {"external_id": "LIB-0001"})
    assert second.status_code == 409
    assert second.json["errors"] == {"json": {"external_id": [
        "a member with this external id is already on the panel"]}}


def test_a_body_over_the_limit_is_a_413_in_json_on_the_api(apps, clients, monkeypatch):
    monkeypatch.setitem(apps["panel"].config, "MAX_CONTENT_LENGTH", 1024)
    sent = clients["panel"].post("/api/v1/population-targets", data=b"x" * 2048,
                                 headers={"Content-Type": "text/csv"})
    assert sent.status_code == 413 and sent.json["code"] == 413


@pytest.mark.parametrize("name", SERVICES)
def test_api_errors_are_json_and_page_errors_html(clients, name):
    wrong_method = clients[name].delete("/api/v1/openapi.json")
    assert wrong_method.status_code == 405 and wrong_method.json["code"] == 405
    missing_page = clients[name].get("/no-such-page")
    assert missing_page.status_code == 404 and missing_page.mimetype == "text/html"
    if name == "panel":  # the SMS gateway's webhooks are machines too
        unsigned = clients[name].get("/sms/inbound")
        assert unsigned.status_code == 405 and unsigned.json["code"] == 405


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_documents_the_errors_it_can_answer(clients, name):
    document = clients[name].get("/api/v1/openapi.json").json
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            # A success not documented is checked against the error schema, and fails it.
            assert any(code.startswith("2") for code in codes), (method, path)
            assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if not path.startswith("/api/v1/public"):  # everything else needs a key
                assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "413" in codes, (method, path)
