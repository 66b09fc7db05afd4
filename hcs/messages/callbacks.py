"""Status callbacks owed for messages, written in the transaction of the change they report.

One INSERT ... SELECT per change: for each message, a delivery to every enabled endpoint of its
owner (`requested_by`) that chose the event. Nothing is enqueued anywhere before the commit:
the deliveries are rows of an outbox the workers read (hcs.dispatch.callbacks), so a change
that rolls back owes nothing, and one that commits is reported even if a worker dies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Insert,
    Table,
    bindparam,
    exists,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from hcs.callbacks.events import EVENTS
from hcs.callbacks.models import WebhookDelivery, WebhookEndpoint
from hcs.infrastructure.lists import by_array, one_of
from hcs.messages.models import Message
from templates_store.orm import utcnow

REPORTED_EVENTS = frozenset(EVENTS)
_COLUMNS = [
    "endpoint_id",
    "message_id",
    "event",
    "occurred_at",
    "available_at",
    "attempts",
    "state",
    "last_error",
]


def chose(event: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether an endpoint chose `event`: its `events` LIKE `'% ' || event || ' %'`.

    The pattern is built in SQL, not bound whole. SQLite looks at a LIKE's bound pattern when
    it plans a statement (for its LIKE optimization), so it compiles a statement whose pattern
    is a bare parameter again at every execution: 45 us of a single send's 65 us INSERT.
    """
    endpoints = cast(Table, WebhookEndpoint.__table__)
    return endpoints.c.events.like(literal_column("'% '") + event + literal_column("' %'"))


@lru_cache(maxsize=8)
def _statement(many: bool, by_owner: bool, array: bool = False) -> Any:
    """Deliveries of event `b_event` for one message (`b_id`) or many (`b_ids`).

    With `by_owner` (one message whose owner the caller knows: acceptance) the endpoints alone
    are read, by their owner's index, without a join.
    """
    endpoints, messages = cast(Table, WebhookEndpoint.__table__), cast(Table, Message.__table__)
    deliveries = cast(Table, WebhookDelivery.__table__)
    message_id: Any = bindparam("b_id", type_=deliveries.c.message_id.type)
    event = bindparam("b_event", type_=deliveries.c.event.type)
    source: FromClause
    if by_owner:
        source, whose = endpoints, endpoints.c.owner == bindparam("b_owner")
    else:
        source = messages.join(endpoints, endpoints.c.owner == messages.c.requested_by)
        whose = (
            one_of(messages.c.id, "b_ids", array=array)
            if many
            else messages.c.id == bindparam("b_id")
        )
        message_id = messages.c.id
    chosen = (
        select(
            endpoints.c.id,
            message_id,
            event,
            bindparam("b_at", type_=deliveries.c.occurred_at.type),
            bindparam("b_at2", type_=deliveries.c.available_at.type),
            literal(0),
            literal("pending"),
            literal(""),
        )
        .select_from(source)
        .where(whose, endpoints.c.enabled.is_(True), chose(event))
    )
    return insert(deliveries).from_select(_COLUMNS, chosen)


def awaited(owner: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether an enabled endpoint of `owner` chose the event bound `b_event`.

    Asked inside the transaction that writes the change (acceptance's INSERT returns it), so an
    endpoint committed before that transaction took its write lock is never missed.
    """
    endpoints = cast(Table, WebhookEndpoint.__table__)
    return exists().where(
        endpoints.c.owner == owner,
        endpoints.c.enabled.is_(True),
        chose(bindparam("b_event", type_=WebhookDelivery.__table__.c.event.type)),
    )


_AWAITED = select(awaited(bindparam("b_owner", type_=Message.__table__.c.requested_by.type)))


def owed_after(changed: CTE, event: ColumnElement[str], at: ColumnElement[Any]) -> Insert:
    """PostgreSQL's one-statement paths: the deliveries owed for the messages a CTE changed.

    `changed` returns the messages' `id` and `requested_by`; `event` may be a column of it.
    """
    endpoints = cast(Table, WebhookEndpoint.__table__)
    chosen = (
        select(
            endpoints.c.id, changed.c.id, event, at, at, literal(0), literal("pending"), literal("")
        )
        .select_from(changed)
        .join(endpoints, endpoints.c.owner == changed.c.requested_by)
        .where(endpoints.c.enabled.is_(True), chose(event))
    )
    return insert(cast(Table, WebhookDelivery.__table__)).from_select(_COLUMNS, chosen)


def owe_callbacks(
    session: Session,
    message_ids: str | Sequence[str],
    event: str,
    at: datetime | None = None,
    *,
    owner: str | None = None,
) -> None:
    """Write the deliveries `event` owes for these messages (none when it is no callback event).

    :param owner: the messages' `requested_by`, when the caller knows it (no join needed;
        for many messages, first asked whether an endpoint of the owner awaits the event, in
        this same transaction as the INSERT would, so that a batch nobody listens for sends
        no list of its ids: a statement of a thousand parameters costs the PostgreSQL driver
        a fresh parse on every execution)
    """
    if event not in REPORTED_EVENTS or not message_ids:
        return
    moment = at or utcnow()
    params: dict[str, Any] = {"b_event": event, "b_at": moment, "b_at2": moment}
    if isinstance(message_ids, str) or len(message_ids) == 1:
        params["b_id"] = message_ids if isinstance(message_ids, str) else message_ids[0]
        params["b_owner"] = owner
        session.execute(_statement(False, owner is not None), params)
    elif owner is None or session.scalar(_AWAITED, {"b_owner": owner, "b_event": event}):
        statement = _statement(True, False, by_array(session))
        session.execute(statement, params | {"b_ids": list(message_ids)})
