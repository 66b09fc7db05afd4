"""Housekeeping under a database lease: one worker at a time does it, another takes over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hcs.dispatch.leases import HOUSEKEEPING, WorkerLease
from hcs.infrastructure.clock import db_now
from hcs.infrastructure.db import transaction
from hcs.worker import runtime
from hcs.worker.runtime import housekeeping
from tests.support.world import World


def lease(world: World) -> WorkerLease:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.scalars(select(WorkerLease).where(WorkerLease.name == HOUSEKEEPING)).one()


def test_a_second_worker_skips_housekeeping_while_the_first_holds_its_lease(world: World) -> None:
    sessions = world.app.extensions["hcs"].sessions
    assert housekeeping(sessions, owner="host-a:1") is True
    assert housekeeping(sessions, owner="host-b:2") is False
    assert housekeeping(sessions, owner="host-a:1") is True  # the holder renews it
    assert (lease(world).owner, lease(world).token) == ("host-a:1", 1)


def test_when_the_holder_stops_renewing_another_worker_takes_over_with_a_new_token(
    world: World,
) -> None:
    sessions = world.app.extensions["hcs"].sessions
    assert housekeeping(sessions, owner="host-a:1")
    with sessions.begin() as session:  # host a died: its lease ran out on the database's clock
        session.execute(
            update(WorkerLease).values(leased_until=db_now(session) - timedelta(seconds=1))
        )
    assert housekeeping(sessions, owner="host-b:2") is True
    assert (lease(world).owner, lease(world).token) == ("host-b:2", 2)
    assert housekeeping(sessions, owner="host-a:1") is False  # back again: b holds it now


def test_two_workers_starting_housekeeping_at_once_run_it_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = world.app.extensions["hcs"].sessions
    runs: list[str] = []
    purge = runtime.idempotency.purge
    gate = threading.Barrier(2)

    def counted(session: object) -> None:
        runs.append(threading.current_thread().name)
        purge(session)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.idempotency, "purge", counted)
    results: dict[str, bool] = {}

    def work(owner: str) -> None:
        gate.wait(5)
        results[owner] = housekeeping(sessions, owner=owner)

    threads = [threading.Thread(target=work, args=(o,), name=o) for o in ("a:1", "b:2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results.values()) == [False, True] and len(runs) == 1
