"""A message's and an outbox entry's changes of state, as prebuilt SQL run on every send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from hcs.messages.models import Message, MessageEvent, OutboxEntry, ParkedEvent
from templates_store.orm import utcnow


@dataclass(frozen=True)
class Outcome:
    """What happened to one outbox entry."""

    message_id: str
    status: str
    detail: str = ""


@lru_cache(maxsize=32)
def _statement(sources: tuple[str, ...], fields: tuple[str, ...]) -> Any:
    table = Message.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.status.in_(sources))
        .values(
            status=bindparam("b_status"),
            updated_at=bindparam("b_now"),
            **{field: bindparam(f"b_{field}") for field in fields},
        )
    )


def move(
    session: Session, message_id: str, sources: tuple[str, ...], target: str, **values: object
) -> bool:
    """A conditional status change: true only for the one caller that made it."""
    statement = _statement(sources, tuple(sorted(values)))
    params = {"b_id": message_id, "b_status": target, "b_now": utcnow()}
    params |= {f"b_{field}": value for field, value in values.items()}
    result = session.execute(statement, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


_NEW_EVENT = insert(MessageEvent.__table__)


def record_event(session: Session, message_id: str, kind: str, **detail: object) -> None:
    """Add one event to a message's history (an INSERT, not the unit of work)."""
    session.execute(_NEW_EVENT, {"message_id": message_id, "kind": kind, "detail": detail})


def close(session: Session, entry: OutboxEntry, error: str = "") -> None:
    """Mark an entry the session holds done, with the reason when it failed."""
    entry.done_at, entry.leased_until, entry.last_error = utcnow(), None, error


_ENTRIES = OutboxEntry.__table__
_DONE = (
    update(_ENTRIES)
    .where(_ENTRIES.c.id == bindparam("b_id"))
    .values(done_at=bindparam("b_now"), leased_until=None, last_error="")
)


def mark_done(session: Session, entry_id: int) -> None:
    """Close an entry the session may not hold (one statement, no load)."""
    session.execute(_DONE, {"b_id": entry_id, "b_now": utcnow()})


def _sent_statement() -> Any:
    """PostgreSQL: `sent`, its event and the entry closed in one statement (one round trip),
    answering whether `sent` was new and whether a report for it is parked."""
    messages, events, outbox = Message.__table__, MessageEvent.__table__, OutboxEntry.__table__
    parked = ParkedEvent.__table__
    moved = (
        update(messages)
        .where(messages.c.id == bindparam("b_id"), messages.c.status == "sending")
        .values(
            status="sent",
            updated_at=bindparam("b_now"),
            sent_at=bindparam("b_now"),
            provider=bindparam("b_provider"),
            provider_message_id=bindparam("b_provider_id"),
        )
        .returning(messages.c.id)
        .cte("moved")
    )
    event = (
        insert(events)
        .from_select(
            ["message_id", "kind", "at", "detail"],
            select(
                moved.c.id,
                literal("sent"),
                bindparam("b_now"),
                bindparam("b_detail", type_=events.c.detail.type),
            ),
        )
        .cte("event")
    )
    closed = (
        update(outbox)
        .where(outbox.c.id == bindparam("b_entry"))
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
    ).add_cte(event)


_SENT_PG = _sent_statement()


def record_sent_at_once(
    session: Session,
    entry_id: int,
    message_id: str,
    provider: str,
    provider_message_id: str | None,
    *,
    parked_since: datetime,
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
    }
    moved, _, parked = session.execute(_SENT_PG, params).one()
    return bool(moved), bool(parked)
