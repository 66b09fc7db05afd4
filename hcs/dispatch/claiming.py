"""Fenced leases on outbox entries: who may send a message, checked against the database.

Every claim raises the entry's `lease_token` (a fencing token, its lease generation) and takes
its expiry from the database's clock. A worker keeps the tokens it was given (`Fence`), renews
its leases while it works, and every write it makes about an entry (taking the message into
`sending`, recording `sent`, a retry, a failure, an unknown outcome) is refused once another
claim raised the token: a worker paused past its lease and overtaken sends and records nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.orm import Session

from hcs.infrastructure.clock import db_clock
from hcs.infrastructure.lists import among, by_array
from hcs.messages.models import Message, OutboxEntry

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


def lease_due(
    session: Session,
    *,
    owner: str,
    limit: int = 50,
    now: datetime | None = None,
    lease: timedelta = LEASE,
    channels: Sequence[str] | None = None,
) -> dict[int, int]:
    """Lease up to `limit` due entries to `owner`: their ids and fencing tokens, in due order.

    Entries leased by others stay theirs. `now` (the database's clock when not given) is for
    tests that play time forward; `channels` keeps a worker to its lanes.
    """
    moment = now or db_clock(session)
    due = (
        select(OutboxEntry.id)
        .where(OutboxEntry.done_at.is_(None), OutboxEntry.available_at <= moment)
        .where((OutboxEntry.leased_until.is_(None)) | (OutboxEntry.leased_until < moment))
        .order_by(OutboxEntry.available_at, OutboxEntry.id)
        .limit(limit)
    )
    if channels is not None:
        due = due.join(Message, Message.id == OutboxEntry.message_id).where(
            Message.channel.in_(list(channels))
        )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(of=OutboxEntry, skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return {}
    taken = session.execute(
        update(OutboxEntry)
        .where(among(OutboxEntry.id, ids, array=by_array(session)))
        .values(
            leased_until=moment + lease,
            lease_owner=owner,
            lease_token=OutboxEntry.lease_token + 1,
        )
        .returning(OutboxEntry.id, OutboxEntry.lease_token)
    )
    tokens = {entry_id: token for entry_id, token in taken}
    return {entry_id: tokens[entry_id] for entry_id in ids}


def claim(
    session: Session,
    *,
    owner: str,
    limit: int = 50,
    now: datetime | None = None,
    lease: timedelta = LEASE,
    channels: Sequence[str] | None = None,
) -> list[int]:
    """Lease up to `limit` due entries to `owner` (see `lease_due`); their ids."""
    return list(
        lease_due(session, owner=owner, limit=limit, now=now, lease=lease, channels=channels)
    )


def tokens_of(session: Session, entry_ids: Iterable[int]) -> dict[int, int]:
    """The current tokens of entries, for a caller that claimed them without keeping them."""
    query = select(OutboxEntry.id, OutboxEntry.lease_token).where(
        OutboxEntry.id.in_(list(entry_ids))
    )
    return {entry_id: token for entry_id, token in session.execute(query)}


def held_under(
    ids: Any, tokens: Any, pairs: Iterable[tuple[int, int]], *, array: bool = False
) -> ColumnElement[bool]:
    """Rows whose (id, token) is one of `pairs`: by primary key, then one test a generation;
    the ids bound as one array with `array` (`hcs.infrastructure.lists`).

    A round's entries are mostly of one generation (claimed together, first time), so this is
    usually `id IN (...) AND lease_token = t`. A row-value IN made SQLite scan the whole outbox,
    and a CASE of every id's token cost it a comparison per id for each row.
    """
    by_token: dict[int, list[int]] = {}
    for entry_id, token in pairs:
        by_token.setdefault(token, []).append(entry_id)
    if not by_token:  # nothing held: no row, not an empty OR
        return false()
    every = among(ids, [entry_id for group in by_token.values() for entry_id in group], array=array)
    if len(by_token) == 1:
        [token] = by_token
        return and_(every, tokens == token)
    generations = (and_(among(ids, g, array=array), tokens == t) for t, g in by_token.items())
    return and_(every, or_(*generations))


@dataclass
class Fence:
    """The leases one worker holds for a round: entry ids and their tokens."""

    tokens: dict[int, int]
    lease: timedelta = LEASE
    renewed_at: float = field(default_factory=time.monotonic)

    def holds(self, entry_id: int) -> bool:
        return entry_id in self.tokens

    def token(self, entry_id: int) -> int:
        return self.tokens[entry_id]

    def confirm(self, session: Session, entry_ids: Sequence[int]) -> set[int]:
        """Renew these leases in the caller's transaction; those still held (row-locked).

        A lease that expired but that nobody claimed since is still this worker's: the token,
        not the time, says who holds it.
        """
        asked = [
            (entry_id, self.tokens[entry_id]) for entry_id in entry_ids if self.holds(entry_id)
        ]
        if not asked:
            return set()
        now = db_clock(session)
        held_now = held_under(
            OutboxEntry.id, OutboxEntry.lease_token, asked, array=by_array(session)
        )
        renewed = session.scalars(
            update(OutboxEntry)
            .where(held_now)
            .values(leased_until=now + self.lease)
            .returning(OutboxEntry.id)
        )
        held = set(renewed)
        for entry_id, _ in asked:
            if entry_id not in held:
                log.warning("lease on outbox entry %s was lost to another claim", entry_id)
                self.tokens.pop(entry_id, None)
        return held

    def is_fresh(self) -> bool:
        """Whether the leases were renewed within the last third of their length."""
        return time.monotonic() - self.renewed_at < self.lease.total_seconds() / 3

    def mark_renewed(self) -> None:
        self.renewed_at = time.monotonic()

    def release(self, entry_id: int) -> None:
        """Forget an entry whose outcome was recorded (or refused)."""
        self.tokens.pop(entry_id, None)


def refused(entry: OutboxEntry, token: int) -> bool:
    """Whether an entry (read row-locked) was claimed again since `token` was given out."""
    if entry.lease_token == token:
        return False
    log.warning(
        "outbox entry %s: outcome refused, its lease passed to token %s (held %s)",
        entry.id,
        entry.lease_token,
        token,
    )
    return True
