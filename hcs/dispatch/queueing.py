"""Outbox entries handed to a broker: marked when queued, taken by one worker, swept when lost.

The outbox stays the source of truth. An entry handed to the queue is leased to `QUEUED`; the
worker that runs its task takes the lease with a conditional update, so duplicate tasks (a
sweep and the API's enqueue, a redelivery after a worker died) send nothing twice: the loser
finds the entry done or leased. An entry whose task was lost is due again once its lease ends,
and the sweep queues it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hcs.dispatch.claiming import Fence
from hcs.dispatch.generating import Generate
from hcs.dispatch.providers import Providers
from hcs.dispatch.rounds import Outcome, SentHook, SharedSession, claim, process_many
from hcs.infrastructure.clock import db_clock, db_now
from hcs.messages.models import OutboxEntry

QUEUED = "queue"  # the lease owner of entries waiting in the broker for a worker


def _free(moment: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return or_(OutboxEntry.leased_until.is_(None), OutboxEntry.leased_until < moment)


def hand_to_queue(session: Session, message_ids: Sequence[str], *, lease: timedelta) -> list[int]:
    """Mark the open entries of these messages as queued; their ids, to enqueue after commit."""
    if not message_ids:
        return []
    moment = db_now(session)
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.message_id.in_(message_ids), OutboxEntry.done_at.is_(None))
        .where(_free(moment))
        .values(leased_until=moment + lease, lease_owner=QUEUED)
        .returning(OutboxEntry.id)
    )
    return sorted(result.scalars())


def sweep(session: Session, *, lease: timedelta, limit: int = 1000) -> list[int]:
    """Mark due entries nobody holds (never queued, lost, or due for a retry) as queued."""
    return claim(session, owner=QUEUED, limit=limit, lease=lease)


def take(session: Session, entry_ids: Sequence[int], *, owner: str, lease: timedelta) -> list[int]:
    """Lease the due entries among these to `owner` when free or only queued; those it took."""
    return list(take_leases(session, entry_ids, owner=owner, lease=lease))


def take_leases(
    session: Session, entry_ids: Sequence[int], *, owner: str, lease: timedelta
) -> dict[int, int]:
    """`take`, with the fencing token of each entry taken (`hcs.dispatch.claiming`)."""
    moment = db_clock(session)
    result = session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id.in_(entry_ids), OutboxEntry.done_at.is_(None))
        .where(OutboxEntry.available_at <= moment)
        .where(or_(_free(moment), OutboxEntry.lease_owner == QUEUED))
        .values(
            leased_until=moment + lease,
            lease_owner=owner,
            lease_token=OutboxEntry.lease_token + 1,
        )
        .returning(OutboxEntry.id, OutboxEntry.lease_token)
    )
    taken = {entry_id: token for entry_id, token in result}
    return {entry_id: taken[entry_id] for entry_id in entry_ids if entry_id in taken}


def requeue_retries(
    session: Session, entry_ids: Sequence[int], *, lease: timedelta
) -> dict[int, float]:
    """Queue again those of these entries that wait for a retry; the seconds until each is due."""
    waiting = session.scalars(
        select(OutboxEntry).where(
            OutboxEntry.id.in_(entry_ids),
            OutboxEntry.done_at.is_(None),
            OutboxEntry.leased_until.is_(None),
        )
    )
    now, delays = db_now(session), {}
    for entry in waiting:
        at = entry.available_at.replace(tzinfo=entry.available_at.tzinfo or UTC)
        entry.leased_until, entry.lease_owner = at + lease, QUEUED
        delays[entry.id] = max((at - now).total_seconds(), 0.0)
    return delays


def dispatch(
    sessions: sessionmaker[Session] | SharedSession,
    entry_ids: Sequence[int],
    providers: Providers,
    *,
    owner: str,
    lease: timedelta,
    on_sent: SentHook | None = None,
    generate: Generate | None = None,
) -> list[Outcome]:
    """Take these entries and send them; any that another worker holds is left to it."""
    with sessions.begin() as session:
        taken = take_leases(session, entry_ids, owner=owner, lease=lease)
    if not taken:
        return []
    fence = Fence(dict(taken), lease)
    return process_many(sessions, list(taken), providers, on_sent, generate, fence=fence)


def queue_depth(session: Session) -> int:
    """Outbox entries not done yet: accepted or retrying, queued or not."""
    return (
        session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_(None))
        )
        or 0
    )
