"""Alembic environment of the surveys service."""

from alembic import context

from services.surveys.models import Base
from shared.db import run_migrations

run_migrations(context, Base.metadata)
