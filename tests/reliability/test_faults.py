"""The fault matrix of issue 15, bounded: few messages, two kills, 5-second outages.

Each test runs one scenario of `tests/reliability/faults.py` once, on PostgreSQL when it is
configured (worker start-up dominates), and holds it to the issue's rules (`faults.check`).
`make bench` runs the same scenarios at the issue's size (`tests/perf/test_faults_perf.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.fault_rig import Size
from tests.reliability.faults import check, run
from tests.support.databases import PG_URL
from tests.support.world import World

BOUNDED = Size(messages=24, kills=2, outage=5.0, db_block=5.0, redis_down=5.0)
ONE_BACKEND = pytest.mark.parametrize(
    "backend", ["postgresql" if PG_URL else "sqlite"], indirect=True
)


@ONE_BACKEND
def test_workers_killed_inside_a_send_lose_nothing_and_duplicate_nothing(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "kills"))


@ONE_BACKEND
def test_a_blocked_database_loses_nothing_and_duplicates_nothing(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "database"))


@ONE_BACKEND
def test_a_redis_outage_loses_nothing_and_duplicates_nothing(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "redis"))


@ONE_BACKEND
def test_provider_timeouts_are_reconciled_from_its_events_not_sent_again(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "timeouts"))


@ONE_BACKEND
def test_a_429_with_retry_after_is_obeyed_and_every_message_arrives_once(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "throttled"))


@ONE_BACKEND
def test_a_provider_answering_5xx_for_a_while_delivers_everything_once_afterwards(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    check(run(make_world, tmp_path, BOUNDED, "outage"))
