"""Generating AI slot texts off the critical path: their own lane, never a sending round's time.

A dispatch round that finds a message needing AI text hands it to a `Generate` (the in-process
worker's bounded thread pool, or Celery's `ai` queue) and goes on sending the rest: a model that
hangs holds only its own lane. Until the text is generated the outbox entry stays leased; if the
lane loses it (a crash), the lease ends and a later round hands the message over again, and
`request_signoff` opens one sign-off item however often it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from hcs.dispatch.preparing import Waiting
from hcs.dispatch.providers import Providers
from hcs.dispatch.transitions import Outcome
from hcs.infrastructure.clock import db_clock
from hcs.messages.models import Message, OutboxEntry
from hcs.signoffs.gate import NeedsText, gate, request_signoff

GENERATING = "generating"  # an outcome's status: handed to the AI lane, nothing sent
# How long an entry handed to the AI lane stays leased: rounds do not take it again meanwhile
# (a backlog of AI messages never crowds out the others); a lane that lost it gives it back then.
GENERATION_HOLD = timedelta(minutes=10)
WAITING = "AI text generated; waiting for sign-off"

# Takes a message needing AI text off the round; says what became of it for now.
Generate = Callable[[Waiting], Outcome]


class Transactions(Protocol):
    """A sessionmaker, or a worker's shared session: something that begins transactions."""

    def begin(self) -> AbstractContextManager[Session]: ...


def generate_now(sessions: sessionmaker[Session], waiting: Waiting) -> Outcome:
    """Generate a message's slot texts (no transaction held meanwhile) and queue its sign-off."""
    ttl = timedelta(hours=waiting.providers.settings.signoff_ttl_hours)
    ai = waiting.providers.ai
    status = request_signoff(sessions, waiting.entry_id, waiting.needs, ai, ttl=ttl)  # type: ignore[arg-type]
    return Outcome(waiting.needs.message_id, status, WAITING)


def hold(sessions: Transactions, entry_id: int, *, hold_for: timedelta = GENERATION_HOLD) -> None:
    """Keep an entry handed to the AI lane leased while it waits there (until a moment of the
    database's clock, as every lease)."""
    with sessions.begin() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id == entry_id, OutboxEntry.done_at.is_(None))
            .values(leased_until=db_clock(session) + hold_for)
        )


def waiting_for(session: Session, entry_id: int, providers: Providers) -> Waiting | None:
    """The entry's message, when it still needs AI text (none once generated or closed)."""
    entry = session.get(OutboxEntry, entry_id)
    if entry is None or entry.done_at is not None:
        return None
    needs = gate(session, session.get_one(Message, entry.message_id))
    return Waiting(entry_id, providers, needs) if isinstance(needs, NeedsText) else None


def generate_entry(
    sessions: sessionmaker[Session], entry_id: int, providers: Providers
) -> Outcome | None:
    """Generate for one outbox entry if it still needs it (Celery's `ai` task)."""
    with sessions.begin() as session:
        waiting = waiting_for(session, entry_id, providers)
    return generate_now(sessions, waiting) if waiting is not None else None
