"""Housekeeping under a database lease: one worker at a time does it, another takes over."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

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


def test_a_holder_that_lost_the_lease_mid_run_stops_before_the_next_chore(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run outlasted its lease (a long seal, say) and another worker took over between two
    chores: the first does no further chore, so the two never work at once. (During a chore
    nobody can take it: the chore's transaction holds the lease's row.)"""
    sessions = world.app.extensions["hcs"].sessions
    done: list[str] = []
    hold = runtime.leases.hold

    def taken_over_after_the_expiry(session: Session, name: str, **kwargs: Any) -> bool:
        if done == ["expire"] and kwargs["owner"] == "host-a:1":
            with sessions.begin() as other:  # the lease ran out on the database's clock
                other.execute(
                    update(WorkerLease).values(leased_until=db_now(other) - timedelta(seconds=1))
                )
            done.append("host b takes over")
            assert housekeeping(sessions, owner="host-b:2") is True
        return hold(session, name, **kwargs)

    expire = runtime.expire_signoffs
    monkeypatch.setattr(runtime.leases, "hold", taken_over_after_the_expiry)
    monkeypatch.setattr(runtime, "expire_signoffs", lambda s: (expire(s), done.append("expire")))
    monkeypatch.setattr(runtime.idempotency, "purge", lambda s: done.append("purge"))
    assert housekeeping(sessions, owner="host-a:1") is False
    # host b ran every chore (its purge included); host a stopped after its expiry
    assert done[:3] == ["expire", "host b takes over", "expire"] and done.count("purge") == 1
    assert (lease(world).owner, lease(world).token) == ("host-b:2", 2)


def test_while_the_holder_works_another_worker_skips_at_once_rather_than_waiting(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder's chore holds the lease's row until it commits, even past the lease's end;
    a second worker then finds the lease expired but does not queue behind the chore (on
    PostgreSQL it skips the locked row; SQLite has one writer at a time anyway)."""
    sessions = world.app.extensions["hcs"].sessions
    if world.app.extensions["hcs"].engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    working, release = threading.Event(), threading.Event()
    expire = runtime.expire_signoffs

    def long_expiry(session: Session) -> None:
        if threading.current_thread().name == "host-a":
            working.set()
            release.wait(10)
        expire(session)

    monkeypatch.setattr(runtime, "expire_signoffs", long_expiry)
    short = timedelta(milliseconds=300)
    holder = threading.Thread(
        target=lambda: housekeeping(sessions, owner="host-a:1", ttl=short), name="host-a"
    )
    holder.start()
    try:
        assert working.wait(10)
        time.sleep(0.6)  # the chore outlasts its lease
        answers: list[bool] = []
        started = time.monotonic()
        other = threading.Thread(target=lambda: answers.append(housekeeping(sessions, owner="b")))
        other.start()
        other.join(3)
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)
    assert answers == [False] and waited < 3
