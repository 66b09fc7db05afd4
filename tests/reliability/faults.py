"""The fault matrix of issue 15, one function per scenario, at any size.

Each scenario runs on a `Rig` (`tests/reliability/fault_rig.py`): PostgreSQL (or SQLite),
two Celery workers on a Redis of the rig's own, and the fake SendGrid, which takes every copy it
is sent and reports `processed` and `delivered` for it to HCS's signed webhook. `check` holds
the issue's rules: nothing lost; nothing reached the provider twice while its events flow; any
message resent is marked `possible_duplicate` (the transactional policy is `resend`); every
message ends `delivered`, or `failed` with a reason.

`tests/reliability/test_faults.py` runs them small in `make test`; `tests/perf/
test_faults_perf.py` at the issue's size in `make bench`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from hcs.infrastructure.db import make_engine
from tests.reliability.fault_rig import Rig, Size, Tally, rig, tally
from tests.reliability.workers import wait_for
from tests.support.fake_sendgrid import Answer
from tests.support.world import World

BATCH = 1000  # the batch API's limit
ROWS: list[Tally] = []
Scenario = Callable[[Rig], Tally]


def accept_all(rig: Rig, count: int) -> None:
    for start in range(0, count, BATCH):
        rig.accept(min(BATCH, count - start))


def taken_at_least(rig: Rig, count: int, what: str) -> None:
    wait_for(lambda: rig.fake.taken_count() >= count, 120, what)


def kill_cycles(rig: Rig) -> Tally:
    """SIGKILL both workers while one of them is inside a send, again and again."""
    size = rig.size
    chunk = max(2, size.messages // max(1, size.kills))
    for cycle in range(size.kills):
        seen = rig.fake.taken_count()
        accept_all(rig, chunk)
        hold = rig.fake.hold(at=seen + chunk // 2)  # answered only once the kill happened
        rig.workers.start()
        assert hold.arrived.wait(120), f"cycle {cycle}: no send to kill inside"
        rig.workers.kill()
        hold.release()
    accept_all(rig, max(0, size.messages - len(rig.ids)))
    rig.workers.start()
    rig.wait_settled(size.settle)
    return tally(rig, f"{size.kills} SIGKILL cycles of 2 Celery workers, mid-send")


@contextmanager
def database_blocked(rig: Rig) -> Iterator[None]:
    """Every table a send touches locked by another session (PostgreSQL), or the file
    (SQLite), for the duration of the block."""
    url = rig.world.app.extensions["hcs"].settings.database_url
    if make_url(url).get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(make_url(url).database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE outbox, messages IN ACCESS EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def blocked_database(rig: Rig) -> Tally:
    """The database blocked while messages flow; more arrive during the block."""
    size, half = rig.size, rig.size.messages // 2
    rig.workers.start()
    accept_all(rig, half)
    taken_at_least(rig, max(1, half // 4), "sends before the block")
    refused: list[int] = []
    with database_blocked(rig):
        late = threading.Thread(target=_accept_tolerating_503, args=(rig, half, refused))
        late.start()
        time.sleep(size.db_block)  # the fault itself: how long the database stays blocked
    late.join(60)
    rig.wait_settled(size.settle)
    row = tally(rig, f"database blocked {size.db_block:.0f} s")
    row.notes["refused at acceptance (503)"] = sum(refused)
    return row


def _accept_tolerating_503(rig: Rig, count: int, refused: list[int]) -> None:
    """Hand over `count` more; a 503 (the database did not answer in time) is no acceptance."""
    try:
        accept_all(rig, count)
    except AssertionError:
        refused.append(count)


def redis_outage(rig: Rig) -> Tally:
    """The broker killed while messages flow, more accepted meanwhile, then started again."""
    size, half = rig.size, rig.size.messages // 2
    rig.workers.start()
    accept_all(rig, half)
    taken_at_least(rig, max(1, half // 4), "sends before the outage")
    rig.redis.kill()
    down = time.monotonic()
    accept_all(rig, size.messages - half)  # the API still accepts: the sweep queues them later
    time.sleep(max(0.0, size.redis_down - (time.monotonic() - down)))
    rig.redis.start()  # empty: whatever was queued in it is gone
    rig.wait_settled(size.settle)
    return tally(rig, f"Redis down {size.redis_down:.0f} s")


def provider_timeouts(rig: Rig) -> Tally:
    """The first call and every n-th after it taken but answered after the client's timeout."""
    slow, every = Answer(delay=rig.size.slow_answer), rig.size.slow_every
    rig.fake.script = lambda n, refs: slow if n % every == 1 else Answer()
    rig.workers.start()
    accept_all(rig, rig.size.messages)
    rig.wait_settled(rig.size.settle)
    return tally(rig, f"provider times out (1 call in {every})")


def _for_a_while(seconds: float, during: Answer) -> Callable[[int, list[str]], Answer]:
    """`during` for `seconds` from the first request, then 202."""
    first: list[float] = []

    def script(n: int, refs: list[str]) -> Answer:
        first.append(time.monotonic()) if not first else None
        return during if time.monotonic() - first[0] < seconds else Answer()

    return script


def throttled(rig: Rig) -> Tally:
    """429 with `Retry-After` for a while; no message is tried again sooner than it says."""
    size = rig.size
    wait = size.retry_after
    rig.fake.script = _for_a_while(size.throttle, Answer(429, retry_after=str(wait)))
    rig.workers.start()
    accept_all(rig, size.messages)
    rig.wait_settled(size.settle + size.throttle)
    row = tally(rig, f"429 with Retry-After: {wait} for {size.throttle:.0f} s")
    row.notes["retried sooner than Retry-After"] = too_soon(rig, wait)
    return row


def too_soon(rig: Rig, wait: int) -> int:
    """How many calls came less than `wait` seconds after a 429 about the same message."""
    early = 0
    for events in rig.fake.timeline.values():
        for (at, status), (next_at, _) in zip(events, events[1:], strict=False):
            early += status == 429 and next_at - at < wait - 0.5
    return early


def server_errors(rig: Rig) -> Tally:
    """503 to every call for the outage, then the provider is back."""
    size = rig.size
    rig.fake.script = _for_a_while(size.outage, Answer(503))
    rig.workers.start()
    accept_all(rig, size.messages)
    # Capped exponential backoff with full jitter: the last retry lands up to one cap later.
    rig.wait_settled(size.settle + 2.5 * size.outage)
    row = tally(rig, f"5xx for {size.outage:.0f} s")
    calls = [call for calls in rig.fake.timeline.values() for call in calls]
    back = min(at for at, status in calls) + size.outage
    row.notes["last message taken, s after the provider was back"] = round(
        max(at for at, status in calls if status == 202) - back
    )
    return row


SCENARIOS: dict[str, Scenario] = {
    "kills": kill_cycles,
    "database": blocked_database,
    "redis": redis_outage,
    "timeouts": provider_timeouts,
    "throttled": throttled,
    "outage": server_errors,
}
# Provider timeouts need a client that gives up sooner than the fake answers.
CLIENT_TIMEOUT = {"timeouts": 1.0}


def run(make_world: Callable[..., World], directory: Path, size: Size, name: str) -> Tally:
    """Run scenario `name` on a rig of its own; its row, also kept in ROWS."""
    with rig(make_world, directory, size, timeout=CLIENT_TIMEOUT.get(name, 10.0)) as r:
        row = SCENARIOS[name](r)
    ROWS.append(row)
    print("\n" + table([row]))
    return row


def check(row: Tally) -> None:
    """The issue's rules: 0 lost, 0 duplicates while events flow, every message settled."""
    assert row.lost == 0, row
    assert row.twice == 0 and not row.unmarked, row
    assert set(row.statuses) <= {"delivered", "failed"}, row.statuses
    assert row.unreasoned == 0, row
    assert row.notes.get("retried sooner than Retry-After", 0) == 0, row.notes


COLUMNS = ("scenario", "accepted", "once", "twice+", "lost", "delivered", "sent", "failed")
COLUMNS += ("unknown", "possible_duplicate", "seconds")


def cells(row: Tally) -> tuple[str, ...]:
    s = row.statuses
    values = (row.accepted, row.once, row.twice, row.lost, s["delivered"], s["sent"])
    values += (s["failed"], s["unknown"])
    marked = f"{len(row.marked)} ({row.marked_once} reached once)"
    return (row.scenario, *map(str, values), marked, f"{row.seconds:.0f}")


def table(rows: list[Tally]) -> str:
    """The rows as a Markdown table, notes after it."""
    lines = [COLUMNS, tuple("---" for _ in COLUMNS), *map(cells, rows)]
    text = "\n".join("| " + " | ".join(line) + " |" for line in lines)
    notes = [f"{row.scenario}: {k}: {v}" for row in rows for k, v in row.notes.items()]
    return "\n".join([text, *notes])
