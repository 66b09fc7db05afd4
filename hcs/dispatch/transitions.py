"""Outbox entries closed, and `sent` in one statement: prebuilt SQL run on every send.

A message's status changes by `hcs.messages.moves.move` (re-exported here for the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from hcs.messages.callbacks import owed_after
from hcs.messages.models import Message, MessageEvent, OutboxEntry, ParkedEvent
from hcs.messages.moves import move, record_event
from hcs.messages.status import Move
from templates_store.orm import utcnow

__all__ = [
    "Outcome",
    "close",
    "close_if_held",
    "mark_done",
    "move",
    "record_event",
    "record_sent_at_once",
    "suppress_message",
]


@dataclass(frozen=True)
class Outcome:
    """What happened to one outbox entry."""

    message_id: str
    status: str
    detail: str = ""


def close(session: Session, entry: OutboxEntry, error: str = "") -> None:
    """Mark an entry the session holds done, with the reason when it failed."""
    entry.done_at, entry.leased_until, entry.last_error = utcnow(), None, error


def suppress_message(session: Session, entry: OutboxEntry, reason: str) -> None:
    """A message not to send after all: `suppressed` with its reason, its entry closed."""
    move(session, entry.message_id, Move.SUPPRESS, detail={"reason": reason}, reason=reason)
    close(session, entry, reason)


_ENTRIES = cast(Table, OutboxEntry.__table__)
_DONE = (
    update(_ENTRIES)
    .where(_ENTRIES.c.id == bindparam("b_id"))
    .values(done_at=bindparam("b_now"), leased_until=None, last_error="")
)


def mark_done(session: Session, entry_id: int) -> None:
    """Close an entry the session may not hold (one statement, no load)."""
    session.execute(_DONE, {"b_id": entry_id, "b_now": utcnow()})


_DONE_IF_HELD = _DONE.where(_ENTRIES.c.lease_token == bindparam("b_token"))


def close_if_held(session: Session, entry_id: int, token: int) -> bool:
    """Close an entry only while its lease is still `token`'s; whether it was."""
    result = session.execute(_DONE_IF_HELD, {"b_id": entry_id, "b_now": utcnow(), "b_token": token})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _sent_statement() -> Any:
    """PostgreSQL: `sent`, its event and the entry closed in one statement (one round trip),
    answering whether `sent` was new and whether a report for it is parked.

    The one move not made by `hcs.messages.moves.move`, for speed; its statuses and event are
    still the table's (`Move.SEND`)."""
    messages, events = cast(Table, Message.__table__), cast(Table, MessageEvent.__table__)
    outbox, parked = cast(Table, OutboxEntry.__table__), ParkedEvent.__table__
    row = Move.SEND.value
    token = bindparam("b_token", type_=Integer)
    # No token: any holder; a token: only while the entry's lease is still that one's.
    held = or_(token.is_(None), outbox.c.lease_token == token)
    moved = (
        update(messages)
        .where(
            messages.c.id == bindparam("b_id"),
            messages.c.status.in_([literal(status.value) for status in sorted(row.sources)]),
            or_(
                token.is_(None),
                exists().where(outbox.c.id == bindparam("b_entry"), outbox.c.lease_token == token),
            ),
        )
        .values(
            status=row.target.value,
            updated_at=bindparam("b_now"),
            sent_at=bindparam("b_now"),
            provider=bindparam("b_provider"),
            provider_message_id=bindparam("b_provider_id"),
        )
        .returning(messages.c.id, messages.c.requested_by)
        .cte("moved")
    )
    # The callers' `sent` callbacks, owed in this same statement (hcs.messages.callbacks).
    owed = owed_after(moved, literal(row.target.value), bindparam("b_now")).cte("owed")
    event = (
        insert(events)
        .from_select(
            ["message_id", "kind", "at", "detail"],
            select(
                moved.c.id,
                literal(row.event),
                bindparam("b_now"),
                bindparam("b_detail", type_=events.c.detail.type),
            ),
        )
        .cte("event")
    )
    closed = (
        update(outbox)
        .where(outbox.c.id == bindparam("b_entry"), held)
        .values(done_at=bindparam("b_now"), leased_until=None, last_error="")
        .returning(outbox.c.id)
        .cte("closed")
    )
    waiting = exists().where(
        parked.c.provider == bindparam("b_provider"),
        parked.c.provider_message_id == bindparam("b_provider_id"),
        parked.c.received_at >= bindparam("b_since"),
    )
    return select(
        select(func.count()).select_from(moved).scalar_subquery(),
        select(func.count()).select_from(closed).scalar_subquery(),
        waiting,
    ).add_cte(event, owed)


_SENT_PG = _sent_statement()


def record_sent_at_once(
    session: Session,
    entry_id: int,
    message_id: str,
    provider: str,
    provider_message_id: str | None,
    *,
    parked_since: datetime,
    token: int | None = None,
) -> tuple[bool, bool]:
    """PostgreSQL: record `sent` in one statement; whether it was new, whether a report waits."""
    params = {
        "b_id": message_id,
        "b_entry": entry_id,
        "b_now": utcnow(),
        "b_provider": provider,
        "b_provider_id": provider_message_id,
        "b_detail": {"provider": provider, "id": provider_message_id},
        "b_since": parked_since,
        "b_token": token,
    }
    moved, _, parked = session.execute(_SENT_PG, params).one()
    return bool(moved), bool(parked)
