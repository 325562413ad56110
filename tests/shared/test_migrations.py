"""Each service's migrations build the schema its models describe, on SQLite and PostgreSQL:
a model changed without its migration (or a migration without its model) fails here, not in
a deployment."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.db import make_engine


@pytest.mark.parametrize("service", ["panel", "surveys", "feedback"])
def test_the_migrated_database_is_the_schema_the_models_describe(database_urls, service):
    models = importlib.import_module(f"services.{service}.models")
    engine = make_engine(database_urls[service])
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           models.Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
