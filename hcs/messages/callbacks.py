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

from sqlalchemy import CTE, ColumnElement, Insert, Table, bindparam, insert, literal, select
from sqlalchemy.orm import Session

from hcs.callbacks.events import EVENTS, pattern
from hcs.callbacks.models import WebhookDelivery, WebhookEndpoint
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


@lru_cache(maxsize=2)
def _statement(many: bool) -> Any:
    """Deliveries for one message (`b_id`) or many (`b_ids`), of event `b_event`."""
    endpoints, messages = cast(Table, WebhookEndpoint.__table__), cast(Table, Message.__table__)
    which = (
        messages.c.id.in_(bindparam("b_ids", expanding=True))
        if many
        else messages.c.id == bindparam("b_id")
    )
    chosen = (
        select(
            endpoints.c.id,
            messages.c.id,
            bindparam("b_event", type_=WebhookDelivery.__table__.c.event.type),
            bindparam("b_at", type_=WebhookDelivery.__table__.c.occurred_at.type),
            bindparam("b_at2", type_=WebhookDelivery.__table__.c.available_at.type),
            literal(0),
            literal("pending"),
            literal(""),
        )
        .select_from(messages)
        .join(endpoints, endpoints.c.owner == messages.c.requested_by)
        .where(which, endpoints.c.enabled.is_(True), endpoints.c.events.like(bindparam("b_like")))
    )
    return insert(cast(Table, WebhookDelivery.__table__)).from_select(_COLUMNS, chosen)


def owed_after(changed: CTE, event: ColumnElement[str], at: ColumnElement[Any]) -> Insert:
    """PostgreSQL's one-statement paths: the deliveries owed for the messages a CTE changed.

    `changed` returns the messages' `id` and `requested_by`; `event` may be a column of it.
    """
    endpoints = cast(Table, WebhookEndpoint.__table__)
    wanted = literal("% ") + event + literal(" %")
    chosen = (
        select(
            endpoints.c.id, changed.c.id, event, at, at, literal(0), literal("pending"), literal("")
        )
        .select_from(changed)
        .join(endpoints, endpoints.c.owner == changed.c.requested_by)
        .where(endpoints.c.enabled.is_(True), endpoints.c.events.like(wanted))
    )
    return insert(cast(Table, WebhookDelivery.__table__)).from_select(_COLUMNS, chosen)


def owe_callbacks(
    session: Session, message_ids: str | Sequence[str], event: str, at: datetime | None = None
) -> None:
    """Write the deliveries `event` owes for these messages (none when it is no callback event)."""
    if event not in REPORTED_EVENTS or not message_ids:
        return
    moment = at or utcnow()
    params: dict[str, Any] = {"b_event": event, "b_at": moment, "b_at2": moment}
    params["b_like"] = pattern(event)
    if isinstance(message_ids, str):
        session.execute(_statement(False), params | {"b_id": message_ids})
    else:
        session.execute(_statement(True), params | {"b_ids": list(message_ids)})
