"""API keys remembered for a few seconds per process, so most API calls read no key at all.

A key that checked out is trusted again for `seconds` (`HCS_API_KEY_CACHE_SECONDS`, default 2)
by the process that checked it. Revoking a key, disabling its person or changing their roles or
password forgets every remembered key in the process that commits the change, at once; other
processes (gunicorn's other workers, other hosts) see it within `seconds`. A key that fails is
never remembered: each presentation of it is checked (and counted by the failed-authentication
throttle). `seconds=0` reads the key on every call.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from hcs.identity.keys import LAST_USED_RESOLUTION, read_key
from hcs.identity.principal import PRINCIPALS_CHANGED, Principal
from templates_store.orm import utcnow

_generation = 0  # raised by every commit that changed a key or a person behind one
_MAX_KEYS = 1024


def _forget_on_commit(session: Session) -> None:
    global _generation
    if session.info.pop(PRINCIPALS_CHANGED, False):
        _generation += 1


def _drop_mark(session: Session, *_: Any) -> None:
    session.info.pop(PRINCIPALS_CHANGED, None)


event.listen(Session, "after_commit", _forget_on_commit)
event.listen(Session, "after_soft_rollback", _drop_mark)


@dataclass
class _Checked:
    principal: Principal
    last_used_at: datetime | None
    checked_at: float
    generation: int


class KeyCache:
    """The keys this process checked in the last `seconds`, by the digest of the key."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._checked: dict[bytes, _Checked] = {}
        self._lock = threading.Lock()

    def authenticate(self, session: Session, presented: str) -> tuple[Principal, bool]:
        """`hcs.identity.authenticate`, from memory while the key's check is recent."""
        digest = hashlib.sha256(presented.strip().encode()).digest()
        now = self._clock()
        checked = self._checked.get(digest)
        if checked is None or not self._is_recent(checked, now):
            principal, last_used_at = read_key(session, presented)
            checked = _Checked(principal, last_used_at, now, _generation)
            if self.seconds > 0:
                self._remember(digest, checked)
        last_used_at = checked.last_used_at
        stale = last_used_at is None or utcnow() - last_used_at >= LAST_USED_RESOLUTION
        if stale:  # the caller records the use now: the next minute's calls need not
            checked.last_used_at = utcnow()
        return checked.principal, stale

    def _is_recent(self, checked: _Checked, now: float) -> bool:
        return checked.generation == _generation and now - checked.checked_at < self.seconds

    def _remember(self, digest: bytes, checked: _Checked) -> None:
        with self._lock:
            if len(self._checked) >= _MAX_KEYS:
                self._checked.clear()
            self._checked[digest] = checked
