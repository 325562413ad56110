"""Alembic environment of the panel service."""

from alembic import context

from services.panel.models import Base
from shared.db import run_migrations

run_migrations(context, Base.metadata)
