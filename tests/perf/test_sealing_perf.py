"""Benchmark: audit entries recorded and sealed in batches vs bare INSERTs of the same rows.

Also what the batches avoid: one hash chain extended inside every writer's transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Index, MetaData, Table, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from hcs.audit import AuditEntry, record
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory, transaction
from hcs.sealing import seal_pending, verify
from templates_store.orm import utcnow
from tests.perf.timing import median_seconds

ROWS = 1000
WRITERS = 4


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "actor": "ana@example.com",
            "action": "version.approve",
            "target_type": "template_version",
            "target": f"order-confirmation v{n}",
            "before": {"status": "in_review", "stage": "legal"},
            "after": {"status": "approved", "stage": "brand"},
            "detail": {"comment": "Checked against the brand book", "policy": "marketing"},
        }
        for n in range(count)
    ]


def _bare_table() -> Table:
    """The audit table's columns and indexes, without the log: where the bare INSERTs go."""
    columns = [
        Column(c.name, c.type, primary_key=c.primary_key, index=c.index, unique=c.unique)
        for c in AuditEntry.__table__.columns
    ]
    table = Table("bare_audit_entries", MetaData(), *columns)
    unsealed = text("seq IS NULL")
    Index("ix_bare_unsealed", table.c.id, sqlite_where=unsealed, postgresql_where=unsealed)
    return table


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    BARE.create(engine)
    yield engine
    engine.dispose()


def _pipeline(factory: sessionmaker[Session], rows: list[dict[str, Any]], per_txn: int) -> None:
    for start in range(0, len(rows), per_txn):
        with transaction(factory) as session:
            for row in rows[start : start + per_txn]:
                record(session, **row)
    with transaction(factory) as session:
        seal_pending(session, AuditEntry, batch_size=500)


def _bare(engine: Engine, rows: list[dict[str, Any]], per_txn: int) -> None:
    statement = insert(BARE)
    for start in range(0, len(rows), per_txn):
        with engine.begin() as connection:
            for row in rows[start : start + per_txn]:
                connection.execute(statement, {**row, "at": utcnow(), "entry_hash": "0" * 64})


def _seal_only(factory: sessionmaker[Session], rows: list[dict[str, Any]]) -> float:
    with transaction(factory) as session:
        for row in rows:
            record(session, **row)
    return median_seconds(lambda: _seal_all(factory), repeat=1)


def _seal_all(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        seal_pending(session, AuditEntry, batch_size=500)


BARE = _bare_table()


@pytest.mark.perf
@pytest.mark.parametrize("per_txn", [1, 100])
def test_recording_and_sealing_costs_little_more_than_bare_inserts(
    engine: Engine, per_txn: int, bench_report: Callable[..., None]
) -> None:
    factory, rows = session_factory(engine), _rows(ROWS)
    backend = engine.dialect.name
    # interleaved rounds, best median of each: other work on the machine only adds noise
    rounds = [
        (
            median_seconds(lambda: _pipeline(factory, rows, per_txn), repeat=3),
            median_seconds(lambda: _bare(engine, rows, per_txn), repeat=3),
        )
        for _ in range(2)
    ]
    pipeline, raw = min(r[0] for r in rounds), min(r[1] for r in rounds)
    name = f"audit record+seal, {per_txn} row/txn [{backend}]"
    bench_report(name, pipeline, raw, unit="entry", per=ROWS)
    sealing = sum(_seal_only(factory, rows) for _ in range(3)) / 3
    bench_report(f"audit sealing alone [{backend}]", sealing, raw, unit="entry", per=ROWS)
    with transaction(factory) as session:
        assert verify(session, AuditEntry).ok
    assert pipeline < raw * (5 if per_txn == 1 else 12)


def _in_threads(work: Callable[[list[dict[str, Any]]], None], rows: list[dict[str, Any]]) -> None:
    share, errors = len(rows) // WRITERS, []

    def run(part: list[dict[str, Any]]) -> None:
        try:
            work(part)
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(rows[n * share : (n + 1) * share],))
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _record_chained(factory: sessionmaker[Session], row: dict[str, Any]) -> None:
    """The rejected design: each writer locks the log and reads its last hash before writing."""
    with transaction(factory) as session:
        if session.connection().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(42)"))
        last = select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
        previous = session.scalar(last) or ""
        record(session, **{**row, "detail": {**row["detail"], "previous": previous}})


@pytest.mark.perf
def test_concurrent_writers_are_not_serialised_by_the_log(
    engine: Engine, bench_report: Callable[..., None]
) -> None:
    factory, rows = session_factory(engine), _rows(ROWS)
    backend = engine.dialect.name

    def record_each(part: list[dict[str, Any]]) -> None:
        for row in part:
            with transaction(factory) as session:
                record(session, **row)

    def bare_each(part: list[dict[str, Any]]) -> None:
        for row in part:
            with engine.begin() as connection:
                connection.execute(insert(BARE), {**row, "at": utcnow(), "entry_hash": "0" * 64})

    def chained_each(part: list[dict[str, Any]]) -> None:
        for row in part:
            _record_chained(factory, row)

    def ours() -> None:
        _in_threads(record_each, rows)
        _seal_all(factory)

    pipeline = median_seconds(ours, repeat=3)
    raw = median_seconds(lambda: _in_threads(bare_each, rows), repeat=3)
    chained = median_seconds(lambda: _in_threads(chained_each, rows), repeat=3)
    name = f"audit, {WRITERS} writers, 1 row/txn, +seal"
    bench_report(f"{name} [{backend}]", pipeline, raw, unit="entry", per=ROWS)
    chain_name = f"chain-per-request, {WRITERS} writers (rejected)"
    bench_report(f"{chain_name} [{backend}]", chained, raw, unit="entry", per=ROWS)
    with transaction(factory) as session:
        assert verify(session, AuditEntry).ok
    assert pipeline < raw * 5
