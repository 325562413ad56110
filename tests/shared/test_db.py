"""One column type for moments: UTC and aware whatever the database hands back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from shared.db import UtcDateTime, make_engine


@pytest.fixture
def moments(database_urls):
    engine = make_engine(database_urls["feedback"])
    table = Table("test_moments", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", UtcDateTime))
    table.create(engine)
    yield engine, table
    table.drop(engine)
    engine.dispose()


def test_a_moment_comes_back_aware_in_utc_whatever_zone_it_went_in(moments):
    engine, table = moments
    paris = datetime(2026, 12, 1, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=paris))
        stored = connection.scalar(select(table.c.at))
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


def test_a_naive_datetime_is_refused_rather_than_guessed(moments):
    engine, table = moments
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(table).values(id=2, at=datetime(2026, 12, 1, 22, 30)))
