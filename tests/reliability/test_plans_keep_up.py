"""Lookups keep using their indexes while a fresh database's tables grow fast.

PostgreSQL picks an index or a whole-table read from its statistics; a table never analysed has
none, and a lookup of fifty values then reads the whole table, each round. Autovacuum looks once
a minute, and not at all where it is off (as on this machine): 100,000 emails on a fresh
database took 3.3 ms each, against 1.4 over 1,000. The workers' housekeeping analyses a table
that outgrew its statistics (`hcs.infrastructure.statistics`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from hcs import archive
from hcs.archive import crypto
from hcs.archive.crypto import Keyring
from hcs.archive.keys import subject_keys
from hcs.infrastructure import migrate, statistics
from hcs.infrastructure.db import make_engine, session_factory, transaction
from hcs.worker.runtime import housekeeping
from tests.support.world import World

KEYS = Keyring.from_master(crypto.new_key())


@pytest.fixture
def engine(fresh_database_url: str, backend: str) -> Iterator[Engine]:
    if backend != "postgresql":
        pytest.skip("planner statistics: PostgreSQL (SQLite's planner uses indexes without)")
    migrate.upgrade(fresh_database_url)  # a schema of its own, never written to
    engine = make_engine(fresh_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _grow(engine: Engine, rows: int, master_id: str = KEYS.master_id) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO archive_subject_keys (lookup, wrapped_key, master_id, created_at)"
                " SELECT 'grown-' || n, :key, :master, now() FROM generate_series(1, :rows) AS n"
            ),
            {"key": crypto.new_key(), "master": master_id, "rows": rows},
        )
    _flush_counts(engine)


def _flush_counts(engine: Engine) -> None:
    # The cumulative statistics' live-row counts trail by a second; tests need them now.
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))


def _scans(connection: Connection) -> tuple[int, int]:
    """This transaction's sequential and index scans of the subject keys so far."""
    row = connection.execute(
        text(
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables"
            " WHERE relname = 'archive_subject_keys' AND schemaname = current_schema()"
        )
    ).one()
    return int(row.seq_scan or 0), int(row.idx_scan or 0)


def test_a_round_s_lookup_uses_the_index_once_its_grown_table_was_analysed(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as session:  # the pool's one connection: its prepared statements
        for n in range(15):  # prepared on the 5th run, a generic plan settled on by the 10th
            subject_keys(session, KEYS, [f"early-{n}-{m}" for m in range(50)])
            session.commit()
        _grow(engine, 20_000)

        def lookups() -> tuple[int, int]:
            before = _scans(session.connection())
            for n in range(5):
                subject_keys(session, KEYS, [f"late-{n}-{m}" for m in range(50)])
            after = _scans(session.connection())
            session.rollback()
            return after[0] - before[0], after[1] - before[1]

        assert lookups()[0] == 5  # no statistics: every lookup read the whole table
        with sessions.begin() as other:
            assert "archive_subject_keys" in statistics.analyse_grown(other)
        seq, idx = lookups()
    assert (seq, idx >= 5) == (0, True), (seq, idx)


def _analyse(engine: Engine) -> list[str]:
    with session_factory(engine).begin() as session:
        return statistics.analyse_grown(session)


def test_only_tables_that_outgrew_their_statistics_are_analysed(engine: Engine) -> None:
    _grow(engine, statistics.MIN_ROWS - 1)  # too few to matter
    assert _analyse(engine) == []
    _grow(engine, 2)
    assert _analyse(engine) == ["archive_subject_keys"]
    assert _analyse(engine) == []  # counted now: nothing more to do
    _grow(engine, statistics.MIN_ROWS)  # under twice the rows counted
    assert _analyse(engine) == []
    _grow(engine, statistics.MIN_ROWS + 10)  # past twice
    assert _analyse(engine) == ["archive_subject_keys"]


def _last_analysed(world: World) -> object:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.execute(
            text(
                "SELECT last_analyze FROM pg_stat_user_tables"
                " WHERE relname = 'archive_subject_keys' AND schemaname = current_schema()"
            )
        ).scalar()


def test_housekeeping_analyses_a_grown_table_and_only_the_lease_holder_does(
    world: World, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("planner statistics: PostgreSQL")
    services = world.app.extensions["hcs"]
    with services.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE archive_subject_keys")
    before = _last_analysed(world)
    keyring = archive.keyring(services.settings)
    assert keyring is not None
    _grow(services.engine, 3 * statistics.MIN_ROWS, keyring.master_id)
    assert housekeeping(services.sessions, owner="worker-a")  # takes the lease
    after = _last_analysed(world)
    assert after != before
    _grow(services.engine, 9 * statistics.MIN_ROWS, keyring.master_id)
    assert not housekeeping(services.sessions, owner="worker-b")  # a's lease: b does nothing
    assert _last_analysed(world) == after
    assert housekeeping(services.sessions, owner="worker-a")
    assert _last_analysed(world) != after
