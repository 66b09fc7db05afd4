"""Multi-row INSERTs store what SQLAlchemy would have stored, in few statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, event, insert, text
from sqlalchemy.orm import Session

from hcs.archive import SubjectKey
from hcs.infrastructure import inserts
from hcs.infrastructure.inserts import insert_rows
from tests.support.statements import statements

KEYS = cast(Table, SubjectKey.__table__)
PARIS = timezone(timedelta(hours=1))


def _rows(first: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "lookup": f"lookup-{n}",
            "wrapped_key": bytes([n % 256]) * 40,
            "master_id": "m" * 16,
            "created_at": datetime(2026, 12, 7, 3, 4, 5, n, tzinfo=PARIS),
            "erased_at": None,
            "erased_by": "dpo" if n % 2 else None,
        }
        for n in range(first, first + count)
    ]


def _stored(session: Session, lookups: list[str]) -> list[tuple[Any, ...]]:
    """The stored values as the database holds them (a datetime is text on SQLite)."""
    query = text(
        "SELECT wrapped_key, master_id, created_at, erased_at, erased_by"
        " FROM archive_subject_keys WHERE lookup IN :lookups ORDER BY lookup"
    ).bindparams(bindparam("lookups", expanding=True))
    return [tuple(row) for row in session.execute(query, {"lookups": lookups})]


def test_rows_are_stored_as_core_inserts_of_the_same_values_are(session: Session) -> None:
    ours = _rows(1, 3)
    core = [row | {"lookup": "core-" + row["lookup"]} for row in ours]
    returned = insert_rows(session.connection(), KEYS, ours, returning=("id", "lookup"))
    session.execute(insert(KEYS), core)
    stored = _stored(session, [row["lookup"] for row in ours])
    assert stored == _stored(session, [row["lookup"] for row in core])
    assert [row[4] for row in stored] == ["dpo", None, "dpo"]
    made = session.get_one(SubjectKey, dict((lookup, id_) for id_, lookup in returned)["lookup-1"])
    assert made.created_at == datetime(2026, 12, 7, 2, 4, 5, 1, tzinfo=UTC)
    assert made.wrapped_key == b"\x01" * 40


def test_rows_past_the_parameter_bound_go_in_several_statements(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the rows go as one array a column: one statement however many."""
    monkeypatch.setattr(inserts, "MAX_PARAMETERS", 6 * 4)  # four rows a statement
    rows = _rows(1, 10)
    with statements(session) as seen:
        returned = insert_rows(session.connection(), KEYS, rows, returning=("lookup",))
    assert len(seen) == (1 if session.get_bind().dialect.name == "postgresql" else 3)
    assert sorted(lookup for (lookup,) in returned) == sorted(row["lookup"] for row in rows)
    assert len(_stored(session, [row["lookup"] for row in rows])) == 10


def test_no_rows_run_no_statement(session: Session) -> None:
    with statements(session) as seen:
        assert insert_rows(session.connection(), KEYS, []) == []
    assert seen == []


def test_on_postgresql_a_round_of_rows_is_one_statement_the_driver_keeps_rewritten(
    session: Session,
) -> None:
    """psycopg rewrites placeholders in Python and keeps the result only for statements under
    its bounds: 50 rows' VALUES list was rewritten on every round. The same statement serves
    any number of rows, within those bounds."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's statement cache")
    from psycopg import _queries

    sent: list[tuple[str, Any]] = []
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    insert_rows(connection, KEYS, _rows(1, 50))
    insert_rows(connection, KEYS, _rows(51, 7))
    (first, values), (second, _) = sent
    assert first == second
    assert len(first.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(values) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert len(_stored(session, [f"lookup-{n}" for n in range(1, 58)])) == 57
