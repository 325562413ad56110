"""Alembic environment of the feedback service."""

from alembic import context

from services.feedback.models import Base
from shared.db import run_migrations

run_migrations(context, Base.metadata)
