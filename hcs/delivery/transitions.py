"""A message's and an outbox entry's changes of state, as prebuilt SQL run on every send."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from hcs.delivery.models import Message, MessageEvent, OutboxEntry
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
