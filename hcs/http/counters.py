"""Rate-limit counters in this process's memory (`hcs-memory://`), expired as they are read.

The `limits` package's own memory storage starts a timer thread to expire counters whenever its
last one has run out: on a busy API that is a new thread every few requests, each start waiting
for the thread to be scheduled. These are the same fixed-window counters without the thread: a
counter past its window reads as zero and starts a new window, and expired ones are dropped at
most once a second while counting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits.storage import Storage

SWEEP_SECONDS = 1.0


class LocalCounters(Storage):
    """Fixed-window counters for one process: `HCS_RATELIMIT_STORAGE_URL=hcs-memory://`."""

    STORAGE_SCHEME = ["hcs-memory"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window's end)
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` more in the key's window, opening one of `expiry` seconds if none."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            count, ends = self._counts.get(key, (0, now))
            if ends <= now:
                count, ends = 0, now + expiry
            self._counts[key] = (count + amount, ends)
            return count + amount

    def get(self, key: str) -> int:
        """The key's count in its current window (0 when it has none)."""
        count, ends = self._counts.get(key, (0, 0.0))
        return count if ends > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now, when it has none)."""
        now = self._clock()
        _, ends = self._counts.get(key, (0, now))
        return max(ends, now)

    def check(self) -> bool:
        """Always reachable: it is this process's memory."""
        return True

    def reset(self) -> int:
        """Forget every counter; how many there were."""
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
        return count

    def clear(self, key: str) -> None:
        """Forget one key's counter."""
        with self._lock:
            self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for key in [k for k, (_, ends) in self._counts.items() if ends <= now]:
            del self._counts[key]
