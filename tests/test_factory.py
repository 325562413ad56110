"""Every service's factory: health, OpenAPI, one error shape, and no production without secrets."""

from __future__ import annotations

import pytest

from services import feedback, panel, surveys
from shared.config import ConfigError

FACTORIES = {"panel": panel.create_app, "surveys": surveys.create_app,
             "feedback": feedback.create_app}


@pytest.mark.parametrize("name", FACTORIES)
def test_healthz_is_200_when_database_and_redis_answer(apps, name):
    response = apps[name].test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"service": name, "status": "ok",
                             "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize("name", FACTORIES)
def test_healthz_is_503_naming_redis_when_redis_is_down(database_urls, name):
    app = FACTORIES[name]({"DATABASE_URL": database_urls[name],
                           "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("down")
    app.extensions["database"].engine.dispose()


@pytest.mark.parametrize("name", FACTORIES)
def test_openapi_document_is_served(apps, name):
    document = apps[name].test_client().get("/api/v1/openapi.json").json
    assert document["info"]["title"] == f"civicpanel {name}"
    assert document["paths"]


@pytest.mark.parametrize("name", FACTORIES)
def test_unknown_api_path_answers_json_in_the_one_error_shape(apps, name):
    response = apps[name].test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == 404 and response.json["message"]


@pytest.mark.parametrize("name", FACTORIES)
def test_production_mode_refuses_to_start_without_its_secrets(monkeypatch, name):
    monkeypatch.setenv("CIVICPANEL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        FACTORIES[name]({"DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize(("name", "main_page"), [
    ("panel", "/join"), ("surveys", "/surveys"), ("feedback", "/you-said-we-did")])
def test_the_bare_address_leads_to_the_services_main_page(apps, monkeypatch, name, main_page):
    client = apps[name].test_client()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"http://{name}.test{main_page}"
    # Under one host name, the service's own path and the host alone lead there too.
    monkeypatch.setitem(apps[name].config, f"{name.upper()}_URL", f"https://civic.test/{name}")
    for address in (f"/{name}/", "/"):
        response = client.get(address)
        assert response.status_code == 302, address
        assert response.headers["Location"] == f"https://civic.test/{name}{main_page}", address
