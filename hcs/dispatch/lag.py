"""The send–archive gap: sent messages not archived yet, and archive entries not sealed yet.

A message is archived after its send commits (`hcs.dispatch.process`), by the same round or,
if that failed, late (`hcs.dispatch.backfill`); an entry is sealed by the worker's housekeeping.
Until both happened there is no tamper-evident record of what was sent. `/metrics` and
`/readyz` show both backlogs and the age of their oldest send; past `HCS_ARCHIVE_LAG_MAX`,
`/readyz` answers 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from hcs import archive
from hcs.messages.models import Message, MessageEvent
from templates_store.orm import utcnow

# How far back sends are looked at: each look is a scan of this window's sends.
WINDOW = timedelta(days=2)


@dataclass(frozen=True)
class Backlog:
    """How many sends wait at one stage, and how long ago the oldest of them was sent."""

    count: int
    oldest_seconds: float


@dataclass(frozen=True)
class ArchiveLag:
    """Sent but not archived; archived but not sealed."""

    unarchived: Backlog
    unsealed: Backlog

    @property
    def worst_seconds(self) -> float:
        """The age of the oldest send without a sealed entry."""
        return max(self.unarchived.oldest_seconds, self.unsealed.oldest_seconds)


def _skipped() -> ColumnElement[bool]:
    # Erased before it could be archived: nothing will ever be, on purpose.
    return exists().where(
        MessageEvent.message_id == Message.id, MessageEvent.kind == "archive_skipped"
    )


def _backlog(session: Session, count: int, oldest: datetime | None, now: datetime) -> Backlog:
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return Backlog(count, round(age, 1))


def archive_lag(session: Session, *, now: datetime | None = None) -> ArchiveLag:
    """Both backlogs now (sends of the last `WINDOW`)."""
    now = now or utcnow()
    entry = archive.ArchiveEntry
    unarchived = (
        select(func.count(), func.min(Message.sent_at))
        .outerjoin(entry, entry.message_id == Message.id)
        .where(Message.sent_at >= now - WINDOW, entry.id.is_(None), ~_skipped())
    )
    count, oldest = session.execute(unarchived).one()
    unsealed = select(func.count(), func.min(entry.sent_at)).where(entry.seq.is_(None))
    sealed_count, sealed_oldest = session.execute(unsealed).one()
    return ArchiveLag(
        _backlog(session, count, oldest, now), _backlog(session, sealed_count, sealed_oldest, now)
    )
