"""One provider call's `sent`, recorded together: a few statements however many messages.

A call that carried several messages (`hcs.dispatch.sending`) records them in one transaction:
the entries still held under their tokens are closed by one UPDATE, their messages move to
`sent` by one UPDATE joined to the call's values (each message its own provider id), and their
events and the callbacks owed are written by one INSERT each. The moves are still the table's
(`Move.SEND`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ARRAY, Table, bindparam, case, func, literal, select, update
from sqlalchemy.orm import Session

from hcs.dispatch.claiming import held_under
from hcs.infrastructure.inserts import insert_rows
from hcs.infrastructure.lists import among, by_array
from hcs.messages.callbacks import owe_callbacks
from hcs.messages.models import Message, MessageEvent, OutboxEntry, ParkedEvent
from hcs.messages.moves import forget
from hcs.messages.parking import PARKED_FOR, apply_parked
from hcs.messages.status import Move
from templates_store.orm import utcnow

_MESSAGES = cast(Table, Message.__table__)
_ENTRIES = cast(Table, OutboxEntry.__table__)
_EVENTS = cast(Table, MessageEvent.__table__)
_PARKED = cast(Table, ParkedEvent.__table__)


@dataclass(frozen=True)
class Taken:
    """One message a provider took in a call: its entry, the lease token, the provider's id."""

    entry_id: int
    message_id: str
    token: int
    provider_message_id: str


def _close_held(session: Session, taken: Sequence[Taken]) -> set[int]:
    """Close the entries still held under the call's tokens; the ids closed."""
    pairs = ((one.entry_id, one.token) for one in taken)
    held = held_under(_ENTRIES.c.id, _ENTRIES.c.lease_token, pairs, array=by_array(session))
    closed = session.execute(
        update(_ENTRIES)
        .where(held)
        .values(done_at=utcnow(), leased_until=None, last_error="")
        .returning(_ENTRIES.c.id)
    )
    return set(closed.scalars())


def _to_sent(which: Any, provider_id: Any) -> Any:
    """`sending` → `sent` for the messages `which` matches, each given `provider_id`; the
    moment and the provider are bound (`b_now`, `b_provider`); returns the ids moved."""
    row = Move.SEND.value
    return (
        update(_MESSAGES)
        .where(which, _MESSAGES.c.status.in_([literal(s.value) for s in sorted(row.sources)]))
        .values(
            status=row.target.value,
            updated_at=bindparam("b_now"),
            sent_at=bindparam("b_now"),
            provider=bindparam("b_provider"),
            provider_message_id=provider_id,
        )
        .returning(_MESSAGES.c.id)
    )


# PostgreSQL: joined to the call's (message id, provider id) pairs, bound as two arrays
# (`unnest`) whatever the call's size. A CASE of one branch a message took the driver and the
# server longer than the UPDATE itself: psycopg parses the placeholders of a statement of over
# 50 parameters again at every execution, and the server plans a 200-branch CASE (a round of
# 200: 9.3 ms, 7.6 from the arrays).
_PAIRS = (
    func.unnest(
        bindparam("b_ids", type_=ARRAY(_MESSAGES.c.id.type)),
        bindparam("b_provider_ids", type_=ARRAY(_MESSAGES.c.provider_message_id.type)),
    )
    .table_valued("id", "provider_id")
    .render_derived(name="taken")
)
_SENT_FROM_ARRAYS = _to_sent(_MESSAGES.c.id == _PAIRS.c.id, _PAIRS.c.provider_id)


def _move_sent(session: Session, taken: Sequence[Taken], provider: str) -> list[str]:
    """`sending` → `sent` for these messages, each with its provider id; the ids moved."""
    ids = {one.message_id: one.provider_message_id for one in taken}
    params: dict[str, Any] = {"b_now": utcnow(), "b_provider": provider}
    if by_array(session):
        params |= {"b_ids": list(ids), "b_provider_ids": list(ids.values())}
        return list(session.scalars(_SENT_FROM_ARRAYS, params))
    shared = set(ids.values())
    # One id for the whole call (SendGrid's request id), else each message's own.
    provider_id = shared.pop() if len(shared) == 1 else case(ids, value=_MESSAGES.c.id)
    statement = _to_sent(_MESSAGES.c.id.in_(list(ids)), provider_id)
    return list(session.scalars(statement, params))


def record_sent_many(session: Session, taken: Sequence[Taken], provider: str) -> set[str]:
    """The provider took these messages in one call: `sent` (once each), their events, the
    reports parked for them, their entries closed; the ids whose `sent` was new.

    Only messages whose entry is still held under the call's token move: a worker overtaken by
    another claim records nothing for that message (the provider's report reconciles it).
    """
    closed = _close_held(session, taken)
    held = [one for one in taken if one.entry_id in closed]
    if not held:
        return set()
    moved = set(_move_sent(session, held, provider))
    if not moved:
        return moved
    ids = {one.message_id: one.provider_message_id for one in held if one.message_id in moved}
    now, kind = utcnow(), Move.SEND.value.event
    events = [
        {"message_id": m, "kind": kind, "at": now, "detail": {"provider": provider, "id": p}}
        for m, p in ids.items()
    ]
    insert_rows(session.connection(), _EVENTS, events)  # one statement, not one an event
    owe_callbacks(session, list(ids), Move.SEND.value.target.value, now)
    forget(
        session, list(ids), ("status", "updated_at", "sent_at", "provider", "provider_message_id")
    )
    _apply_parked(session, ids, provider)
    return moved


def _apply_parked(session: Session, ids: dict[str, str], provider: str) -> None:
    """Reports that arrived before `sent` was recorded, applied now (one query when none)."""
    waiting = session.scalars(
        select(_PARKED.c.provider_message_id).where(
            _PARKED.c.provider == provider,
            among(_PARKED.c.provider_message_id, set(ids.values()), array=by_array(session)),
            _PARKED.c.received_at >= utcnow() - PARKED_FOR,
        )
    )
    parked = set(waiting)
    for message_id, provider_message_id in ids.items():
        if provider_message_id in parked:
            apply_parked(session, message_id, provider, provider_message_id)
