"""deploy/docker-compose.yml against the Compose specification's JSON Schema, as check-jsonschema
(pinned in pyproject.toml) ships it, checked against the SHA-256 it records for that file; and
what the file says agrees with how civicpanel runs."""

from __future__ import annotations

import copy
import hashlib
import json
from importlib import resources

import jsonschema
import pytest
import yaml

from shared.messages import MESSAGE_TYPES
from tests.deploy.manifests import ROOT, SERVICES, readme_settings

COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
VENDOR = resources.files("check_jsonschema.builtin_schemas.vendor")


@pytest.fixture(scope="module")
def compose_schema() -> dict:
    raw = (VENDOR / "compose-spec.json").read_bytes()
    recorded = (VENDOR / "sha256" / "compose-spec.sha256").read_text().strip()
    assert hashlib.sha256(raw).hexdigest() == recorded
    schema = json.loads(raw)
    assert schema["title"] == "Compose Specification"
    return schema


@pytest.fixture(scope="module")
def compose() -> dict:
    # PyYAML resolves the file's anchors and `<<` merge keys as Compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text())


def validate(document: dict, schema: dict) -> None:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator_class(schema).validate(document)


def test_the_compose_file_fits_the_compose_specification(compose, compose_schema):
    validate(compose, compose_schema)


def test_the_compose_schema_refuses_a_broken_compose_file(compose, compose_schema):
    misspelt = copy.deepcopy(compose)
    misspelt["services"]["panel"]["helthcheck"] = misspelt["services"]["panel"].pop(
        "healthcheck")
    with pytest.raises(jsonschema.ValidationError, match="helthcheck"):
        validate(misspelt, compose_schema)

    wrong_condition = copy.deepcopy(compose)
    wrong_condition["services"]["panel"]["depends_on"]["migrate"]["condition"] = "finished"
    with pytest.raises(jsonschema.ValidationError):
        validate(wrong_condition, compose_schema)


def test_compose_runs_a_web_process_and_a_worker_per_service_after_the_migrations(compose):
    services = compose["services"]
    queues = {message.queue for message in MESSAGE_TYPES.values()}
    for service in SERVICES:
        web = services[service]
        assert web["command"][-1] == f"services.{service}:create_app()"
        assert "/healthz" in " ".join(web["healthcheck"]["test"])
        assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for queue in queues:
        assert services[f"{queue}-worker"]["command"] == ["python", "-m", "shared.worker", queue]
    migrate = " ".join(services["migrate"]["command"])
    for service in SERVICES:
        assert f"flask --app services.{service} db upgrade" in migrate


def test_the_compose_settings_are_readme_settings(compose):
    documented = set(readme_settings())
    environment = compose["services"]["panel"]["environment"]
    assert set(environment) - {"PORT"} <= documented
    example = (ROOT / "deploy" / ".env.example").read_text().splitlines()
    named = {line.split("=", 1)[0] for line in example if line and not line.startswith("#")}
    assert named - {"POSTGRES_PASSWORD"} <= documented
