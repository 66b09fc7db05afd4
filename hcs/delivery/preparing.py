"""Preparing claimed entries: each message finished and taken into `sending`, or stopped.

Several entries are prepared in one transaction, for at most `PREPARE_BUDGET` seconds of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from channels.errors import ChannelError
from hcs.delivery import telemetry
from hcs.delivery.finishing import Finished, finish
from hcs.delivery.models import Message, OutboxEntry
from hcs.delivery.providers import Providers
from hcs.delivery.recall import hold
from hcs.delivery.transitions import Outcome, close, move, record_event
from hcs.signoffs.gate import NeedsText, gate
from templates_store.errors import TemplateStoreError
from templates_store.models import Template, TemplateVersion
from templates_store.status import SENDABLE

# How long one transaction may spend finishing messages: it holds SQLite's write lock (and
# PostgreSQL's row locks), so acceptance waits for it at most this long.
PREPARE_BUDGET = 0.05


@dataclass(frozen=True)
class Ready:
    """A message finished and taken into `sending`: what is left is to send it."""

    entry_id: int
    message_id: str
    channel: str
    providers: Providers
    finished: Finished


@dataclass(frozen=True)
class Waiting:
    """A message whose AI slots need texts generated before a person can sign them off."""

    entry_id: int
    providers: Providers
    needs: NeedsText


Prepared = Ready | Waiting | Outcome


def current(session: Session, model: type[Any], keys: Sequence[object]) -> dict[Any, Any]:
    """Rows as the database holds them now, whatever the session remembers, by primary key."""
    query = select(model).where(model.id.in_(keys)).execution_options(populate_existing=True)
    return {row.id: row for row in session.scalars(query)}


_V, _T = TemplateVersion.__table__.c, Template.__table__.c
_STATE = (
    select(_V.status, _V.suspended_at, _T.retired_at)
    .select_from(TemplateVersion.__table__.join(Template.__table__, _T.id == _V.template_id))
    .where(_V.id == bindparam("version_id"))
)


def fresh(session: Session, model: type[Any], key: object) -> Any:
    """A row as the database holds it now, whatever the session remembers."""
    return session.get_one(model, key, populate_existing=True)


def _prepare_message(
    session: Session, entry: OutboxEntry, message: Message, providers: Providers
) -> Finished | Outcome | NeedsText:
    """Finish the message and take it into `sending`; an Outcome when it must not be sent."""
    if message.status not in ("accepted", "queued", "sending"):
        close(session, entry)
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
        close(session, entry)
        return Outcome(message.id, message.status, slot_text)
    try:
        if reason is None:
            with telemetry.rendering(message.channel):
                finished = finish(session, message, providers, slot_text=slot_text)
    except (TemplateStoreError, ChannelError) as exc:
        reason = f"cannot be finished: {exc}"
    if reason is not None:
        move(session, message.id, ("accepted", "queued", "sending"), "failed", reason=reason)
        record_event(session, message.id, "failed", reason=reason)
        close(session, entry, reason)
        return Outcome(message.id, "failed", reason)
    # A message still `sending` was taken by a worker that died before it recorded the outcome.
    move(session, message.id, ("accepted", "queued"), "sending")
    return finished


def _prepare_entry(
    session: Session, entry: OutboxEntry, message: Message, providers: Providers
) -> Prepared:
    if entry.done_at is not None:
        return Outcome(entry.message_id, "done", "already done")
    # After repeated failures the channel's secondary provider, when there is one, takes over.
    chosen = providers.for_attempt(message.channel, entry.attempts)
    prepared = _prepare_message(session, entry, message, chosen)
    if isinstance(prepared, NeedsText):
        return Waiting(entry.id, chosen, prepared)
    if isinstance(prepared, Outcome):
        return prepared
    return Ready(entry.id, message.id, message.channel, chosen, prepared)


def prepare_some(
    session: Session, entry_ids: Sequence[int], providers: Providers, budget: float
) -> list[Prepared]:
    """Prepare entries in order until `budget` seconds are spent (at least one)."""
    entries = current(session, OutboxEntry, entry_ids)
    messages = current(session, Message, [entry.message_id for entry in entries.values()])
    started, prepared = time.perf_counter(), []
    for entry_id in entry_ids:
        entry = entries[entry_id]
        prepared.append(_prepare_entry(session, entry, messages[entry.message_id], providers))
        if time.perf_counter() - started >= budget:
            break
    return prepared
