"""Changing a message's status: the one function that makes the moves of `hcs.messages.status`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, insert, literal, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from hcs.infrastructure.lists import by_array, one_of
from hcs.messages.callbacks import owe_callbacks
from hcs.messages.models import Message, MessageEvent
from hcs.messages.status import MessageStatus, Move, sources_of
from templates_store.errors import InvalidTransition, NotFound
from templates_store.orm import utcnow

_MESSAGES = cast(Table, Message.__table__)
_NEW_EVENT = insert(cast(Table, MessageEvent.__table__))


def record_event(session: Session, message_id: str, kind: str, **detail: object) -> None:
    """Add one event to a message's history (an INSERT, not the unit of work)."""
    session.execute(_NEW_EVENT, {"message_id": message_id, "kind": kind, "detail": detail})


def locked_in(session: Session, message_id: str, status: MessageStatus, doing: str) -> Message:
    """The message, row-locked until the transaction ends, when it is in `status`: a person's
    action on one message (`doing` it, said in the refusal) is decided once, not by two at once.
    """
    message = session.get(Message, message_id, with_for_update=True)
    if message is None:
        raise NotFound(f"no message {message_id!r}")
    if message.status != status:
        a = "an" if str(status)[0] in "aeiou" else "a"
        raise InvalidTransition(
            f"message {message_id!r} is {message.status}; only {a} {status} one can be {doing}"
        )
    return message


@lru_cache(maxsize=128)
def _statement(
    which: Move,
    asked: tuple[MessageStatus, ...] | None,
    fields: tuple[str, ...],
    many: bool,
    array: bool = False,
) -> Any:
    """The conditional UPDATE of one move, checked and built once per sources, target and fields.

    Raises `InvalidTransition` (never cached) when the table does not allow the move.
    """
    sources = sorted(str(status) for status in sources_of(which, asked))
    table = _MESSAGES
    where: ColumnElement[bool]
    if many:
        where = one_of(table.c.id, "b_ids", array=array)
    else:
        where = table.c.id == bindparam("b_id")
    statement = (
        update(table)
        # Each status its own bound value: no expanding IN to rewrite on every execution.
        .where(where, table.c.status.in_([literal(status) for status in sources]))
        .values(
            status=which.value.target.value,
            updated_at=bindparam("b_now"),
            **{field: bindparam(f"b_{field}") for field in fields},
        )
    )
    return statement.returning(table.c.id) if many else statement


def move(
    session: Session,
    messages: str | Sequence[str],
    which: Move,
    *,
    sources: Collection[MessageStatus] | None = None,
    detail: Mapping[str, object] | None = None,
    **values: object,
) -> int:
    """Make one move for one message or many; how many this caller moved (`move_each`)."""
    return len(move_each(session, messages, which, sources=sources, detail=detail, **values))


def move_each(
    session: Session,
    messages: str | Sequence[str],
    which: Move,
    *,
    sources: Collection[MessageStatus] | None = None,
    detail: Mapping[str, object] | None = None,
    **values: object,
) -> list[str]:
    """Make one move of the table, for one message or many, as one conditional UPDATE.

    Only a message in one of the move's statuses (or of the narrower `sources`) moves, so of
    concurrent callers one makes it. Each message moved gets the move's event, with `detail`,
    and the status callbacks its owner registered for the new status (hcs.messages.callbacks)
    (a provider's report is recorded by `hcs.messages.events` instead). `values` are further
    columns set by the same UPDATE. Returns the messages this caller moved; raises
    `InvalidTransition` when the table has no such move from `sources`.
    """
    row = which.value
    asked = None if sources is None else tuple(sources)
    many = not isinstance(messages, str)
    statement = _statement(which, asked, tuple(sorted(values)), many, many and by_array(session))
    params: dict[str, object] = {f"b_{field}": value for field, value in values.items()}
    params["b_now"] = now = utcnow()
    if isinstance(messages, str):
        result = session.execute(statement, params | {"b_id": messages})
        moved = [messages] if result.rowcount else []  # type: ignore[attr-defined]
    elif messages:
        moved = list(session.scalars(statement, params | {"b_ids": list(messages)}))
    else:
        return []
    if moved and row.event is not None and not row.reported:
        events = [{"message_id": m, "kind": row.event, "detail": dict(detail or {})} for m in moved]
        session.execute(_NEW_EVENT, events[0] if len(events) == 1 else events)
    # The callers' status callbacks, in this same transaction (an outbox, never a queue).
    owe_callbacks(session, moved, row.target.value, now)
    forget(session, moved, ("status", "updated_at", *values))
    return moved


def forget(session: Session, message_ids: Sequence[str], fields: Sequence[str]) -> None:
    """Expire what the session holds of moved messages, so it reads their new status."""
    for message_id in message_ids:
        held = session.identity_map.get(identity_key(Message, message_id))
        if held is not None:
            session.expire(held, list(fields))
