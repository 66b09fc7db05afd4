"""The schema comes from migrations alone, and the models agree with it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Engine, Text, bindparam, cast, func, inspect, select, text, type_coerce

from hcs.schema import metadata


def test_the_models_and_the_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_every_table_exists_after_upgrade(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"templates", "template_versions", "content_blocks", "block_versions"} <= tables


def test_sqlite_runs_with_wal_and_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_json_column_reads_back_a_long_integer_and_a_lone_surrogate_exactly(
    engine: Engine,
) -> None:
    # orjson, which reads JSON columns, would make the integer a float and refuse the surrogate.
    written = '{"account": 123456789012345678901234567890, "name": "\\ud800", "n": 1.5}'
    value = bindparam("v", written, type_=Text)
    column = (
        cast(value, JSON)
        if engine.dialect.name == "postgresql"
        else type_coerce(func.json(value), JSON)
    )
    with engine.connect() as connection:
        read = connection.scalar(select(column))
    assert read == {"account": 123456789012345678901234567890, "name": "\ud800", "n": 1.5}
    assert isinstance(read["account"], int)
