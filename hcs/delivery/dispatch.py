"""Dispatching: claim due outbox entries, finish each message, send it once, record the outcome.

A message moves `accepted`/`queued` → `sending` → `sent` by conditional updates, so two workers
can never both send it. 429, 5xx and timeouts are retried with exponential backoff and jitter
up to `MAX_ATTEMPTS`; other provider refusals fail the message with the provider's reason. An
entry whose worker died keeps its lease until it expires, then another worker takes it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from channels.errors import ChannelError, TransientChannelError
from hcs.delivery import telemetry
from hcs.delivery.finishing import Finished, finish
from hcs.delivery.models import Message, MessageEvent, OutboxEntry
from hcs.delivery.parking import apply_parked
from hcs.delivery.providers import Providers
from hcs.delivery.recall import hold
from hcs.signoffs.gate import NeedsText, gate, request_signoff
from templates_store.errors import TemplateStoreError
from templates_store.models import Template, TemplateVersion
from templates_store.orm import utcnow
from templates_store.status import SENDABLE

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)
LEASE = timedelta(minutes=2)

# Called after a message is sent, inside the same transaction (the archive hooks in here).
SentHook = Callable[[Session, Message, Finished], None]


class Transactions(Protocol):
    """Where `process` opens its transactions: a session factory, or a `SharedSession`."""

    def begin(self) -> Any: ...


class SharedSession:
    """Transactions one after another on one session: a batch's, or a Celery process's.

    What a sendable version holds never changes (the flush guard refuses it), so the version,
    its template and its pinned closure are read once and stay in the session between
    transactions. Everything that can change under a worker (entries, messages, a version's
    status or suspension, a template's retirement) is read fresh in every transaction.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.session = sessions()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.session.begin():
            yield self.session

    def close(self) -> None:
        self.session.close()


@dataclass(frozen=True)
class Outcome:
    """What happened to one outbox entry."""

    message_id: str
    status: str
    detail: str = ""


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2s, 4s, 8s, ... capped at ten minutes."""
    ceiling = min(BASE_DELAY * (2 ** max(attempt - 1, 0)), MAX_DELAY)
    return ceiling * (rng or random).uniform(0.5, 1.0)


def claim(
    session: Session,
    *,
    owner: str,
    limit: int = 50,
    now: datetime | None = None,
    lease: timedelta = LEASE,
) -> list[int]:
    """Lease up to `limit` due entries to `owner`; entries leased by others stay theirs."""
    moment = now or utcnow()
    due = (
        select(OutboxEntry.id)
        .where(OutboxEntry.done_at.is_(None), OutboxEntry.available_at <= moment)
        .where((OutboxEntry.leased_until.is_(None)) | (OutboxEntry.leased_until < moment))
        .order_by(OutboxEntry.available_at, OutboxEntry.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if ids:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(ids))
            .values(leased_until=moment + lease, lease_owner=owner)
        )
    return ids


@lru_cache(maxsize=32)
def _move_statement(sources: tuple[str, ...], fields: tuple[str, ...]) -> Any:
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


def _move(
    session: Session, message_id: str, sources: tuple[str, ...], target: str, **values: object
) -> bool:
    """A conditional status change: true only for the one caller that made it."""
    statement = _move_statement(sources, tuple(sorted(values)))
    params = {"b_id": message_id, "b_status": target, "b_now": utcnow()}
    params |= {f"b_{field}": value for field, value in values.items()}
    result = session.execute(statement, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _event(session: Session, message_id: str, kind: str, **detail: object) -> None:
    session.add(MessageEvent(message_id=message_id, kind=kind, detail=detail))


def _close(session: Session, entry: OutboxEntry, error: str = "") -> None:
    entry.done_at, entry.leased_until, entry.last_error = utcnow(), None, error


_V, _T = TemplateVersion.__table__.c, Template.__table__.c
_STATE = (
    select(_V.status, _V.suspended_at, _T.retired_at)
    .select_from(TemplateVersion.__table__.join(Template.__table__, _T.id == _V.template_id))
    .where(_V.id == bindparam("version_id"))
)


def _fresh(session: Session, model: type[Any], key: object) -> Any:
    """A row as the database holds it now, whatever the session remembers."""
    return session.get_one(model, key, populate_existing=True)


def _prepare(
    session: Session, entry: OutboxEntry, message: Message, providers: Providers
) -> Finished | Outcome | NeedsText:
    """Finish the message and take it into `sending`; an Outcome when it must not be sent."""
    if message.status not in ("accepted", "queued", "sending"):
        _close(session, entry)
        return Outcome(message.id, message.status, "already handled")
    status, suspended_at, retired_at = session.execute(
        _STATE, {"version_id": message.version_id}
    ).one()
    if suspended_at is not None:
        hold(session, message, f"version {message.version_number} is suspended")
        return Outcome(message.id, "held", "the version is suspended")
    # Held for the session's life: its identity map alone would let the version go.
    kept = session.info.setdefault("hcs.versions", {})
    kept[message.version_id] = session.get_one(TemplateVersion, message.version_id)
    reason = None
    if retired_at is not None or status not in SENDABLE:
        reason = f"version {message.version_number} of {message.template_key!r} is {status.value}"
    slot_text = gate(session, message) if reason is None else None
    if isinstance(slot_text, NeedsText):
        return slot_text
    if isinstance(slot_text, str):
        _close(session, entry)
        return Outcome(message.id, message.status, slot_text)
    try:
        if reason is None:
            with telemetry.rendering(message.channel):
                finished = finish(session, message, providers, slot_text=slot_text)
    except (TemplateStoreError, ChannelError) as exc:
        reason = f"cannot be finished: {exc}"
    if reason is not None:
        _move(session, message.id, ("accepted", "queued", "sending"), "failed", reason=reason)
        _event(session, message.id, "failed", reason=reason)
        _close(session, entry, reason)
        return Outcome(message.id, "failed", reason)
    # A message still `sending` was taken by a worker that died before it recorded the outcome.
    _move(session, message.id, ("accepted", "queued"), "sending")
    return finished


def _retry_or_fail(session: Session, entry: OutboxEntry, exc: ChannelError) -> Outcome:
    entry.attempts += 1
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TransientChannelError) and entry.attempts < MAX_ATTEMPTS:
        entry.available_at = utcnow() + backoff(entry.attempts)
        entry.leased_until, entry.last_error = None, detail
        _move(session, entry.message_id, ("sending",), "queued", reason=detail)
        _event(session, entry.message_id, "retry", attempt=entry.attempts, reason=detail)
        return Outcome(entry.message_id, "queued", detail)
    _move(session, entry.message_id, ("sending",), "failed", reason=detail)
    _event(session, entry.message_id, "failed", reason=detail)
    _close(session, entry, detail)
    return Outcome(entry.message_id, "failed", detail)


def process(
    sessions: sessionmaker[Session] | Transactions,
    entry_id: int,
    providers: Providers,
    on_sent: SentHook | None = None,
) -> Outcome:
    """Send one outbox entry: finish and claim it, call the provider, record what it said."""
    with sessions.begin() as session:
        entry = _fresh(session, OutboxEntry, entry_id)
        if entry.done_at is not None:
            return Outcome(entry.message_id, "done", "already done")
        # After repeated failures the channel's secondary provider, when there is one, takes over.
        message = _fresh(session, Message, entry.message_id)
        channel = message.channel
        providers = providers.for_attempt(channel, entry.attempts)
        prepared = _prepare(session, entry, message, providers)
    if isinstance(prepared, Outcome):
        return prepared
    if isinstance(prepared, NeedsText):
        ttl = timedelta(hours=providers.settings.signoff_ttl_hours)
        status = request_signoff(sessions, entry_id, prepared, providers.ai, ttl=ttl)  # type: ignore[arg-type]
        return Outcome(prepared.message_id, status, "AI text generated; waiting for sign-off")
    provider, name = getattr(providers, channel), providers.name(channel)
    started = time.perf_counter()
    try:
        result = provider.send(prepared.prepared)
    except ChannelError as exc:
        with sessions.begin() as session:
            outcome = _retry_or_fail(session, _fresh(session, OutboxEntry, entry_id), exc)
        kind = "retry" if outcome.status == "queued" else "failed"
        telemetry.sent(outcome.message_id, channel, name, kind, started, exc)
        return outcome
    telemetry.sent(entry.message_id, channel, name, "sent", started)
    # The provider has it: record `sent` first, in a transaction of its own, so that nothing
    # after this point (archiving included) can roll it back and cause a second send.
    with sessions.begin() as session:
        entry = _fresh(session, OutboxEntry, entry_id)
        moved = _move(
            session,
            entry.message_id,
            ("sending",),
            "sent",
            provider=name,
            provider_message_id=result.message_id,
            sent_at=utcnow(),
        )
        if moved:
            _event(session, entry.message_id, "sent", provider=name, id=result.message_id)
            apply_parked(session, entry.message_id, name, result.message_id)
        _close(session, entry)
    if moved and on_sent is not None:
        _after_send(sessions, entry.message_id, prepared, on_sent)
    return Outcome(entry.message_id, "sent", result.message_id)


def _after_send(
    sessions: sessionmaker[Session] | Transactions,
    message_id: str,
    prepared: Finished,
    on_sent: SentHook,
) -> None:
    try:
        with sessions.begin() as session:
            on_sent(session, _fresh(session, Message, message_id), prepared)
    except Exception as exc:  # the send stands; the failure is recorded for an operator
        log.exception("after-send step failed for %s", message_id)
        with sessions.begin() as session:
            _event(session, message_id, "archive_failed", reason=f"{type(exc).__name__}: {exc}")


def run_due(
    sessions: sessionmaker[Session],
    providers: Providers,
    *,
    owner: str,
    limit: int = 50,
    on_sent: SentHook | None = None,
) -> list[Outcome]:
    """Claim a batch of due entries and process each; the outcomes, none when idle."""
    with sessions.begin() as session:
        ids = claim(session, owner=owner, limit=limit)
    if not ids:
        return []
    batch = SharedSession(sessions)
    try:
        return [process(batch, entry_id, providers, on_sent) for entry_id in ids]
    finally:
        batch.close()
