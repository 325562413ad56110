"""Every operation of the three OpenAPI documents, fed generated good and bad input by
schemathesis as each kind of caller: never a server error, every answer as documented."""

from __future__ import annotations

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

from tests.scenario import bearer, setup_agencies

SERVICES = ("panel", "surveys", "feedback")
CALLERS = ("no key", "officer", "analyst", "panel_manager", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Small and fixed, so the three documents times five callers take a few minutes on two cores.
FUZZ_SETTINGS = settings(max_examples=8, derandomize=True, deadline=None, database=None,
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
