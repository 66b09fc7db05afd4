"""Accepting sends: resolve the version, validate the data, check consent, write the outbox.

This is the API's hot path, so it speaks SQL directly: one statement finds the template, the
version that sends and, for a single send, the recipient's consent (`hcs.messages.sendable`); a
batch's consent is one more. Each message is three INSERTs (message, its `accepted` event, its
outbox entry) in the caller's transaction; on PostgreSQL one statement writes all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam, func, insert, literal, select
from sqlalchemy.orm import Session

from channels.invisible import strip_data
from hcs.infrastructure.db import write_next
from hcs.infrastructure.inserts import insert_rows
from hcs.infrastructure.prepared import Bound, Prepared
from hcs.messages.callbacks import awaited, owe_callbacks, owed_after
from hcs.messages.consent import reasons, suppression_reasons
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from hcs.messages.recipients import recipient_key
from hcs.messages.sendable import Sendable, sendable_for
from hcs.messages.status import MessageStatus
from hcs.messages.telemetry import note_accepted
from templates_store.errors import ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.orm import utcnow

MAX_BATCH = 1000
_MESSAGES, _EVENTS, _OUTBOX = (
    cast(Table, m.__table__) for m in (Message, MessageEvent, OutboxEntry)
)
_INSERT_MESSAGES, _INSERT_EVENTS, _INSERT_OUTBOX = (
    insert(t) for t in (_MESSAGES, _EVENTS, _OUTBOX)
)
# One message, returning whether an endpoint of its owner (`b_owner`) chose its status
# (`b_event`). The owner is bound, not the row's column: a subquery in RETURNING that names
# `messages` reads the whole table (SQLAlchemy puts it in the subquery's FROM), and then
# answered for any message of an owner with an endpoint, at a cost that grew with the table.
_INSERT_MESSAGE_AWAITED = _INSERT_MESSAGES.returning(
    awaited(bindparam("b_owner", type_=_MESSAGES.c.requested_by.type))
)


# A message row's columns as `_rows` builds it: all but what a provider later fills in.
_COLUMNS = tuple(
    c.name
    for c in cast(Table, Message.__table__).c
    if c.name not in ("provider", "provider_message_id", "sent_at")
)


def _one_statement() -> Any:
    """PostgreSQL: a message, its first event and its outbox entry in one statement (one trip)."""
    messages, events, outbox = (
        cast(Table, m.__table__) for m in (Message, MessageEvent, OutboxEntry)
    )
    columns = [messages.c[name] for name in _COLUMNS]
    written = (
        insert(messages)
        .values({c.name: bindparam(c.name, type_=c.type) for c in columns})
        .returning(
            messages.c.id,
            messages.c.status,
            messages.c.created_at,
            messages.c.reason,
            messages.c.send_at,
            messages.c.requested_by,
        )
        .cte("written")
    )
    # Status callbacks owed for `accepted` (or `suppressed`), in the same statement.
    owed = owed_after(written, written.c.status, written.c.created_at).cte("owed")
    first_event = (
        insert(events)
        .from_select(
            ["message_id", "kind", "at", "detail"],
            select(
                written.c.id,
                written.c.status,
                written.c.created_at,
                func.json_build_object("reason", written.c.reason),
            ),
        )
        .cte("first_event")
    )
    return (
        insert(outbox)
        .from_select(
            ["message_id", "available_at", "attempts", "refusals", "last_error", "lease_token"],
            select(
                written.c.id,
                func.coalesce(written.c.send_at, written.c.created_at),
                literal(0),
                literal(0),
                literal(""),
                literal(0),
            ).where(written.c.status == MessageStatus.ACCEPTED.value),
        )
        .add_cte(first_event, owed)
    )


_INSERT_ONE_PG = _one_statement()
_ONE_PG = Prepared(_INSERT_ONE_PG, _COLUMNS)
_MESSAGE_AWAITED = Prepared(_INSERT_MESSAGE_AWAITED, (*_COLUMNS, "b_owner", "b_event"))
_FIRST_EVENT = Prepared(_INSERT_EVENTS, ("message_id", "kind", "at", "detail"))
_QUEUED = Prepared(_INSERT_OUTBOX, ("message_id", "available_at", "attempts", "last_error"))


@dataclass(frozen=True)
class SendRequest:
    """One message as a backend asked for it."""

    to: Mapping[str, Any]
    data: Mapping[str, Any]
    locale: str | None = None
    reference: str | None = None
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Accepted:
    """What the caller learns of an accepted message."""

    id: str
    status: str
    batch_id: str | None = None


def new_message_id() -> str:
    """A fresh, unguessable message id."""
    return "msg_" + uuid.uuid4().hex


def _check_channel(version: Sendable, channel: str) -> None:
    if channel not in version.template_channels or channel not in version.part_channels:
        served = ", ".join(version.template_channels)
        raise ValidationFailed({"channel": [f"{version.template_key!r} sends on {served}"]})


def _prefixed(prefix: str, exc: ValidationFailed) -> ValidationFailed:
    return ValidationFailed({f"{prefix}{field}": msgs for field, msgs in exc.errors.items()})


# `to` cleaned of invisible characters, the fields they came from, and the recipient key
Recipient = tuple[dict[str, Any], list[str], str]


def _recipient(channel: str, request: SendRequest) -> Recipient:
    to, cleaned_to = strip_data(dict(request.to), "to")
    return to, cleaned_to, recipient_key(channel, to)


def _single_recipient(channel: str, request: SendRequest) -> Recipient | None:
    """A single send's recipient, known before the lookup so that it finds their consent too;
    None when `to` is invalid (`_rows` refuses it after the template's own errors)."""
    try:
        return _recipient(channel, request)
    except ValidationFailed:
        return None


def _rows(
    version: Sendable,
    channel: str,
    request: SendRequest,
    requested_by: str,
    batch_id: str | None,
    send_at: datetime | None,
    is_test: bool,
    recipient: Recipient | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The message row for one request, validated (not yet checked against consent), and the
    fields invisible characters were taken out of; `recipient` when `_recipient` ran already."""
    # Invisible characters (bidi controls, zero-width, tags) are taken out of customer data
    # before anything reads it; the fields they came from are recorded (`data_cleaned`).
    data, cleaned = strip_data(dict(request.data), "data")
    to, cleaned_to, key = recipient or _recipient(channel, request)
    version.load(data)
    now = utcnow()
    return {
        "id": new_message_id(),
        "template_key": version.template_key,
        "version_id": version.version_id,
        "version_number": version.number,
        "channel": channel,
        "category": version.category,
        "locale": normalize_locale(request.locale) if request.locale else None,
        "recipient_key": key,
        "to": to,
        "data": data,
        "requested_by": requested_by,
        "reference": request.reference,
        "caller_metadata": dict(request.metadata) if request.metadata is not None else None,
        "batch_id": batch_id,
        "send_at": send_at,
        "is_test": is_test,
        "status": MessageStatus.ACCEPTED.value,
        "reason": "",
        "created_at": now,
        "updated_at": now,
    }, cleaned_to + cleaned


@dataclass(frozen=True)
class Plan:
    """Messages checked and ready to write: everything a send reads is read by now."""

    channel: str
    rows: list[dict[str, Any]]
    batch_id: str | None = None
    is_test: bool = False  # test keys' messages count in no metric of live sends
    # message id -> the fields invisible characters were taken out of
    cleaned: dict[str, list[str]] = field(default_factory=dict)


def plan(
    session: Session,
    key: str,
    channel: str,
    requests: Sequence[SendRequest],
    *,
    version: int | None = None,
    requested_by: str,
    batch: bool = False,
    send_at: datetime | None = None,
    is_test: bool = False,
) -> Plan:
    """Resolve the version, validate every message and check consent; nothing is written.

    Errors name the message (`messages.3.data.total`) when `batch` is set. With `send_at`
    (already checked against the horizon) the outbox entries wait until that moment.
    """
    if batch and not 1 <= len(requests) <= MAX_BATCH:
        raise ValidationFailed({"messages": [f"send between 1 and {MAX_BATCH} messages"]})
    one = _single_recipient(channel, requests[0]) if len(requests) == 1 and not batch else None
    chosen, found = sendable_for(session, key, version, one and (one[2], channel))
    _check_channel(chosen, channel)
    batch_id = "bat_" + uuid.uuid4().hex if batch else None
    rows, errors, cleaned = [], {}, {}
    for index, request in enumerate(requests):
        try:
            row, fields = _rows(
                chosen, channel, request, requested_by, batch_id, send_at, is_test, one
            )
            rows.append(row)
            if fields:
                cleaned[row["id"]] = fields
        except ValidationFailed as exc:
            errors.update(_prefixed(f"messages.{index}." if batch else "", exc).errors)
    if errors:
        raise ValidationFailed(errors)
    # Receipts too: a hard bounce or a complaint suppresses the channel. One query for a batch.
    keys = [row["recipient_key"] for row in rows]
    if found is None:
        refused = suppression_reasons(session, keys, channel, chosen.category)
    else:  # the lookup found a single send's choices
        refused = reasons(found, keys, channel, chosen.category)
    for row in rows:
        if reason := refused.get(row["recipient_key"]):
            row["status"], row["reason"] = MessageStatus.SUPPRESSED.value, reason
    return Plan(channel, rows, batch_id, is_test, cleaned)


def write(session: Session, planned: Plan) -> list[Accepted]:
    """INSERT the messages, their first events and their outbox entries; what was accepted.

    A read `begin_read` opened in the session (the plan's) ends here and the write begins. In
    autocommit (`autocommit_next`), a single message on PostgreSQL is one statement and its own
    commit; anything more is written in a transaction the session's commit ends.
    """
    rows = planned.rows
    owed = True  # whether callbacks may be owed (not known yet: a statement tells)
    if len(rows) == 1:
        # One message: its statements are prepared before the write begins (on SQLite, before
        # this process's turn to write comes).
        dialect = session.get_bind().dialect
        statements = _one(dialect, rows[0])
        connection = write_next(session, statements=len(statements) + bool(planned.cleaned))
        if dialect.name == "postgresql":  # one statement, callbacks owed included
            statements[0].run(connection)
            owed = False
        else:  # the message's INSERT returns whether an endpoint of its owner awaits it
            owed = bool(statements[0].run(connection).scalar_one())
            for statement in statements[1:]:
                statement.run(connection)
    else:
        connection = write_next(session)  # a statement a table, not one a row
        insert_rows(connection, _MESSAGES, rows)
        insert_rows(connection, _EVENTS, [_first_event(r) for r in rows])
        queued = [_queued(r) for r in rows if r["status"] == MessageStatus.ACCEPTED]
        insert_rows(connection, _OUTBOX, queued)
    if planned.cleaned:
        at = rows[0]["created_at"]
        connection.execute(
            _INSERT_EVENTS,
            [
                {"message_id": id_, "kind": "data_cleaned", "at": at, "detail": {"fields": fields}}
                for id_, fields in planned.cleaned.items()
            ],
        )
    for status in {r["status"] for r in rows}:
        written = [r["id"] for r in rows if r["status"] == status]
        if owed:
            first = rows[0]
            owe_callbacks(
                session, written, status, first["created_at"], owner=first["requested_by"]
            )
        if not planned.is_test:
            note_accepted(session, planned.channel, status, len(written))
    return [Accepted(r["id"], r["status"], planned.batch_id) for r in rows]


def _first_event(row: dict[str, Any]) -> dict[str, Any]:
    detail = {"reason": row["reason"]}
    return {
        "message_id": row["id"],
        "kind": row["status"],
        "at": row["created_at"],
        "detail": detail,
    }


def _queued(row: dict[str, Any]) -> dict[str, Any]:
    """A message's outbox entry: due when it was scheduled for, else now."""
    due = row["send_at"] or row["created_at"]
    return {"message_id": row["id"], "available_at": due, "attempts": 0, "last_error": ""}


def _one(dialect: Dialect, row: dict[str, Any]) -> list[Bound]:
    """A single message's statements, their parameters processed for `dialect`'s driver.

    PostgreSQL: one statement (`_INSERT_ONE_PG`). Elsewhere the message's INSERT, returning
    whether an endpoint of its owner awaits its status (so the callbacks' INSERT ... SELECT runs
    only when it has something to write), its first event and, accepted, its outbox entry.
    """
    if dialect.name == "postgresql":
        return [_ONE_PG.bind(dialect, row)]
    statements = [
        _MESSAGE_AWAITED.bind(
            dialect, row | {"b_owner": row["requested_by"], "b_event": row["status"]}
        ),
        _FIRST_EVENT.bind(dialect, _first_event(row)),
    ]
    if row["status"] == MessageStatus.ACCEPTED:
        statements.append(_QUEUED.bind(dialect, _queued(row)))
    return statements


def accept(
    session: Session,
    key: str,
    channel: str,
    request: SendRequest,
    *,
    version: int | None = None,
    requested_by: str,
) -> Accepted:
    """Accept one message: it and its outbox entry join the caller's transaction."""
    planned = plan(session, key, channel, [request], version=version, requested_by=requested_by)
    return write(session, planned)[0]


def accept_batch(
    session: Session,
    key: str,
    channel: str,
    requests: Sequence[SendRequest],
    *,
    version: int | None = None,
    requested_by: str,
) -> list[Accepted]:
    """Accept up to 1,000 messages of one template, all or none; errors name the message."""
    planned = plan(
        session, key, channel, requests, version=version, requested_by=requested_by, batch=True
    )
    return write(session, planned)
