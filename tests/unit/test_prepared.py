"""A statement prepared once per dialect stores what SQLAlchemy's execute stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert

from hcs.infrastructure.db import make_engine
from hcs.infrastructure.prepared import Prepared

NOTES = Table(
    "notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("body", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, default=lambda: datetime.now(UTC)),
    Column("state", String(20), nullable=False, default="new"),
)


def test_a_prepared_insert_stores_what_execute_stores(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    NOTES.create(engine)
    values = {"body": {"é": [1, None, "x"]}, "at": datetime(2026, 12, 7, 4, 0, 1, 5, tzinfo=UTC)}
    prepared = Prepared(insert(NOTES), ("id", "body", "at"))
    with engine.begin() as connection:
        connection.execute(insert(NOTES), {"id": 1, **values})
        prepared.bind(connection.dialect, {"id": 2, **values}).run(connection)
        stored = connection.exec_driver_sql("SELECT body, at, state FROM notes ORDER BY id").all()
    assert stored[0] == stored[1]
    assert stored[1][2] == "new"  # a constant default is filled in
    engine.dispose()


def test_a_default_computed_for_each_row_must_be_passed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    with pytest.raises(ValueError, match="pass at"):
        Prepared(insert(NOTES), ("id", "body")).bind(engine.dialect, {"id": 1, "body": {}})
    engine.dispose()
