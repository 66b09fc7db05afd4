"""A claim reads the entries its round takes, not the whole backlog.

The claim read `ix_outbox_due (done_at, available_at)`: every pending entry, sorted, for each
round of fifty. 20,000 accepted emails were sorted again at every round while they drained, and
PostgreSQL read them by a bitmap scan, which also visits every version an earlier send left
behind (claimed, taken, sent) until the table is vacuumed. The claim now walks a partial index
of pending entries in due order, and stops at its round.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, update

from hcs.dispatch.claiming import lease_due
from hcs.infrastructure.db import transaction
from hcs.messages.models import OutboxEntry
from tests.support.flows import ORDER, published
from tests.support.world import World

ROUND = 50


def _accept(world: World, count: int, start: int) -> None:
    body = {
        "template": ORDER["template"],
        "channel": ORDER["channel"],
        "messages": [
            {"to": {"email": f"c{n}@example.com"}, "data": ORDER["data"]}
            for n in range(start, start + count)
        ],
    }
    assert world.as_("system").post("/messages/batch", body).status_code == 202


def _sent_as_workers_do(world: World) -> None:
    """Every entry claimed, taken and marked done: the versions real sends leave behind."""
    sessions = world.app.extensions["hcs"].sessions
    while True:
        with sessions.begin() as session:
            tokens = lease_due(session, owner="w1", limit=200)
            if not tokens:
                return
            taken = OutboxEntry.id.in_(list(tokens))
            session.execute(update(OutboxEntry).where(taken).values(attempts=1))
            done = update(OutboxEntry).where(taken).values(done_at=OutboxEntry.available_at)
            session.execute(done)


def _claim_statement(world: World) -> tuple[str, Any]:
    """The SQL and parameters of the claim's SELECT, as `lease_due` sends them."""
    engine, seen = world.app.extensions["hcs"].engine, []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT outbox.id"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with transaction(world.app.extensions["hcs"].sessions) as session:
            lease_due(session, owner="probe", limit=ROUND)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen[0]


def _rows_read(plan: dict[str, Any]) -> int:
    """The rows the plan's table or index scan handed up (its innermost node)."""
    while plan.get("Plans"):
        plan = plan["Plans"][0]
    return int(plan["Actual Rows"])


def test_a_claim_reads_its_round_not_the_whole_backlog(world: World, backend: str) -> None:
    published(world)
    _accept(world, 300, 0)
    _sent_as_workers_do(world)  # history: 300 sent
    for start in range(300, 900, 300):
        _accept(world, 300, start)  # a backlog of 600
    statement, parameters = _claim_statement(world)
    engine = world.app.extensions["hcs"].engine
    with engine.connect() as connection:
        if backend == "postgresql":
            # A few pages are cheapest read whole; at scale they are not: the indexes, here.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar()
            top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            assert _rows_read(top) == ROUND, json.dumps(top)[:2000]
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " | ".join(str(row[-1]) for row in rows)
            assert "ix_outbox_pending" in plan and "TEMP B-TREE" not in plan, plan
        connection.rollback()
    with transaction(world.app.extensions["hcs"].sessions) as session:
        claimed = lease_due(session, owner="w2", limit=ROUND)
        first = session.scalars(
            OutboxEntry.__table__.select()
            .with_only_columns(OutboxEntry.id)
            .where(OutboxEntry.done_at.is_(None))
            .order_by(OutboxEntry.available_at, OutboxEntry.id)
            .limit(ROUND)
        ).all()
    assert list(claimed) == list(first)  # due order, as before
