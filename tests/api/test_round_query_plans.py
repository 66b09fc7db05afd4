"""A dispatch round finds its rows by key: its cost does not grow with the outbox.

Every statement a round runs is asked for its plan (SQLite's planner is rule-based, so the plan
does not depend on how full the test database is): none may scan the outbox, the messages or
their events, which hold every message ever accepted. One such scan cost 6.7 ms a round at
100,000 entries and grew with every message sent.

Nor does a statement's text grow with the round on PostgreSQL: psycopg converts a statement's
placeholders again at every execution once it has more than 50 parameters or 4,096 characters.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from hcs.dispatch import rounds as dispatch
from hcs.worker.runtime import build_worker
from tests.support.flows import published, send_orders, statuses_of
from tests.support.world import World

GROWING = ("outbox", "messages", "message_events", "archive_entries", "webhook_deliveries")


def _scans(connection: Any, statement: str, parameters: Any) -> list[str]:
    """The tables a statement reads whole, by SQLite's query plan."""
    plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters)).all()
    return [row[-1] for row in plan if str(row[-1]).startswith("SCAN ")]


def _one_round(
    world: World, monkeypatch: pytest.MonkeyPatch, count: int
) -> list[tuple[str, Any, bool]]:
    """Every statement one worker round runs for `count` orders (statement, parameters,
    executemany), after checking that the round sent them all."""
    services = world.app.extensions["hcs"]
    monkeypatch.setattr(dispatch, "PREPARE_BUDGET", 60.0)
    published(world)
    ids = send_orders(world, count)
    seen: list[tuple[str, Any, bool]] = []

    def note(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, many: bool) -> None:
        seen.append((statement, parameters, many))

    event.listen(services.engine, "before_cursor_execute", note)
    try:
        assert build_worker(services.settings, services.sessions).run_once() == count
    finally:
        event.remove(services.engine, "before_cursor_execute", note)
    assert set(statuses_of(world).values()) == {"sent"} and len(ids) == count
    return seen


def _reads(statement: str, many: bool) -> bool:
    reads = statement.lstrip().startswith(("SELECT", "UPDATE", "DELETE"))
    return (reads or " SELECT " in statement) and not many  # INSERT .. VALUES reads nothing


def test_no_statement_of_a_round_scans_a_table_that_grows_with_every_message(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = world.app.extensions["hcs"]
    if services.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by table statistics: a tiny test table is scanned anyway")
    seen = _one_round(world, monkeypatch, 6)
    with services.engine.connect() as connection:
        scanning = {
            statement.split("WHERE")[0][:80]: scans
            for statement, parameters, many in seen
            if _reads(statement, many)
            and (scans := [s for s in _scans(connection, statement, parameters)
                           if s.split()[1] in GROWING])
        }  # fmt: skip
    assert scanning == {}


# psycopg keeps a statement's converted placeholders only below these (psycopg._queries).
DRIVER_CACHES_PARAMETERS, DRIVER_CACHES_CHARACTERS = 50, 4096


def test_no_statement_of_a_round_grows_with_the_round_on_postgresql(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.app.extensions["hcs"].engine.dialect.name != "postgresql":
        pytest.skip("SQLite's driver has no placeholders to convert")
    growing = {
        " ".join(statement.split())[:90]: (len(parameters), len(statement))
        for statement, parameters, _ in _one_round(world, monkeypatch, 60)
        if len(parameters) > DRIVER_CACHES_PARAMETERS or len(statement) > DRIVER_CACHES_CHARACTERS
    }
    assert growing == {}
