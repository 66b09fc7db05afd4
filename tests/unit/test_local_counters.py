"""The API's in-process rate-limit counters: fixed windows that end on their own, no threads."""

from __future__ import annotations

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from hcs.http.counters import LocalCounters


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_counts_up_to_its_limit_and_says_when_it_ends() -> None:
    clock = Clock()
    limiter = FixedWindowRateLimiter(LocalCounters(clock=clock))
    item = parse("3/minute")
    assert [limiter.hit(item, "api", "key:a") for _ in range(4)] == [True, True, True, False]
    stats = limiter.get_window_stats(item, "api", "key:a")
    assert stats.remaining == 0 and stats.reset_time == 1_060.0
    assert limiter.hit(item, "api", "key:b")  # another caller has a window of its own


def test_a_window_that_ended_counts_afresh() -> None:
    clock = Clock()
    counters = LocalCounters(clock=clock)
    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    clock.now += 59.9
    assert counters.get("k") == 3
    clock.now += 0.1
    assert counters.get("k") == 0 and counters.get_expiry("k") == clock.now
    assert counters.incr("k", 60) == 1 and counters.get_expiry("k") == clock.now + 60


def test_ended_windows_are_dropped_while_counting() -> None:
    clock = Clock()
    counters = LocalCounters(clock=clock)
    for n in range(100):
        counters.incr(f"address:{n}", 10)
    clock.now += 11
    counters.incr("fresh", 10)
    assert counters.reset() == 1  # only the fresh one was left


def test_the_scheme_names_these_counters() -> None:
    assert isinstance(storage_from_string("hcs-memory://"), LocalCounters)
