"""Dispatching: claim due outbox entries, finish each message, send it once, record the outcome.

A message moves `accepted`/`queued` → `sending` → `sent` by conditional updates, so two workers
can never both send it. 429, 5xx and timeouts are retried with capped exponential backoff and
jitter, or as late as the provider's `Retry-After` asks, until the retry horizon
(`HCS_SEND_RETRY_HORIZON`) has passed since the first failure; then the message fails with a
reason. Other provider refusals fail the message with the provider's reason, unless the channel
has a secondary provider: only definite refusals (a 4xx other than 408/429, a refused
connection) count toward moving to it, never a timeout or a 5xx, which may have been a send. An
entry whose worker died keeps its lease until it expires, then another worker takes it.

A claimed batch costs few transactions: its messages are finished and taken into `sending`
several at a time (`hcs.dispatch.preparing`), each `sent` is recorded alone, right after its
provider call, and what a round sent is archived together.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from channels.errors import (
    ChannelError,
    InvalidContent,
    InvalidRecipient,
    TransientChannelError,
    UnreachableRecipient,
)
from hcs.archive import reading as archive_reading
from hcs.dispatch.finishing import Finished
from hcs.dispatch.generating import Generate, generate_now
from hcs.dispatch.preparing import (
    PREPARE_BUDGET,
    Prepared,
    Ready,
    Waiting,
    apply_all,
    current,
    plan_some,
)
from hcs.dispatch.providers import Providers
from hcs.dispatch.transitions import (
    Outcome,
    close,
    mark_done,
    move,
    record_event,
    record_sent_at_once,
    suppress_message,
)
from hcs.infrastructure.config import format_duration
from hcs.infrastructure.db import begin_read
from hcs.messages import telemetry
from hcs.messages.consent import CARRIER_SOURCE
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.optouts import suppress
from hcs.messages.parking import PARKED_FOR, apply_parked
from hcs.messages.redaction import redact
from hcs.messages.status import MessageStatus, Move
from templates_store.orm import utcnow

__all__ = [
    "Outcome",
    "SentHook",
    "SharedSession",
    "claim",
    "process",
    "process_many",
    "record_sent",
    "run_due",
]

log = logging.getLogger(__name__)
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)
LEASE = timedelta(minutes=2)
# The provider name recorded for messages of test keys, which no provider ever sees.
TEST_PROVIDER = archive_reading.TEST_PROVIDER

# Called with the messages a round sent, in the transaction that archives them.
SentHook = Callable[[Session, Sequence[tuple[Message, Finished]]], None]


class SharedSession:
    """Transactions one after another on one session: a batch's, or a Celery process's.

    What a sendable version holds never changes (the flush guard refuses it), so the version,
    its template and its pinned closure are read once and stay in the session between
    transactions. Everything that can change under a worker (entries, messages, a version's
    status or suspension, a template's retirement) is read fresh in every round, and a round's
    write checks again that its messages did not change.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.session = sessions()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.session.begin():
            yield self.session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite a snapshot, with the write lock left free."""
        begin_read(self.session)
        try:
            yield self.session
        except BaseException:
            self.session.rollback()
            raise
        self.session.commit()

    def close(self) -> None:
        self.session.close()


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2s, 4s, 8s, ... capped at ten minutes."""
    ceiling: timedelta = min(BASE_DELAY * (2 ** max(attempt - 1, 0)), MAX_DELAY)
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


def _counts_toward_failover(exc: ChannelError) -> bool:
    """A definite refusal by the provider: a 4xx other than 408/429, a refused connection."""
    if isinstance(exc, InvalidRecipient | InvalidContent):
        return False  # about the message: a second provider would refuse it too
    return exc.refused and (isinstance(exc, TransientChannelError) or exc.status is not None)


def _next_attempt(attempts: int, exc: ChannelError) -> timedelta:
    """Capped exponential backoff, or later when the provider said when (`Retry-After`)."""
    wait = backoff(attempts)
    asked = getattr(exc, "retry_after", None)
    return max(wait, timedelta(seconds=asked)) if asked is not None else wait


def _retry_or_fail(
    session: Session, entry: OutboxEntry, exc: ChannelError, providers: Providers, channel: str
) -> Outcome:
    message = session.get_one(Message, entry.message_id)
    # Providers quote the recipient in their reasons: kept and shown without it.
    now, detail = (
        utcnow(),
        redact(f"{type(exc).__name__}: {exc}", message.to, message.recipient_key),
    )
    entry.attempts += 1
    refusal = _counts_toward_failover(exc)
    fail_over = (
        refusal and channel in providers.fallbacks and entry.refusals < providers.failover_after
    )
    entry.refusals += int(refusal)
    if isinstance(exc, UnreachableRecipient):
        return _suppress(session, entry, exc, channel)
    if not (isinstance(exc, TransientChannelError) or fail_over):
        return _fail(session, entry, detail)
    since, horizon = entry.retrying_since or now, providers.settings.send_retry_horizon
    if now - since >= horizon:
        return _fail(
            session, entry, f"gave up after retrying for {format_duration(horizon)}: {detail}"
        )
    entry.retrying_since, entry.available_at = since, now + _next_attempt(entry.attempts, exc)
    entry.leased_until, entry.last_error = None, detail
    attempt = {"attempt": entry.attempts, "reason": detail}
    move(session, entry.message_id, Move.RETRY, detail=attempt, reason=detail)
    return Outcome(entry.message_id, MessageStatus.QUEUED, detail)


def _suppress(session: Session, entry: OutboxEntry, exc: ChannelError, channel: str) -> Outcome:
    """The provider says the recipient unsubscribed at their carrier: suppress them there."""
    message = session.get_one(Message, entry.message_id)
    reason = f"{channel} to this recipient is suppressed ({CARRIER_SOURCE})"
    suppress(session, message.recipient_key, channel, source=CARRIER_SOURCE, actor="provider")
    suppress_message(session, entry, reason)
    return Outcome(entry.message_id, MessageStatus.SUPPRESSED, reason)


def _fail(session: Session, entry: OutboxEntry, detail: str) -> Outcome:
    taken = (MessageStatus.SENDING,)
    move(
        session,
        entry.message_id,
        Move.FAIL,
        sources=taken,
        detail={"reason": detail},
        reason=detail,
    )
    close(session, entry, detail)
    return Outcome(entry.message_id, MessageStatus.FAILED, detail)


def record_sent(
    session: Session, entry_id: int, message_id: str, provider: str, provider_message_id: str | None
) -> bool:
    """The provider took a message: `sent` (once), its event, the reports parked for it, and
    its entry closed; true when `sent` was new."""
    if session.get_bind().dialect.name == "postgresql":
        since = utcnow() - PARKED_FOR
        moved, parked = record_sent_at_once(
            session,
            entry_id,
            message_id,
            provider,
            provider_message_id,
            parked_since=since,
        )
        if moved and parked:
            apply_parked(session, message_id, provider, provider_message_id)
        return moved
    made = move(
        session,
        message_id,
        Move.SEND,
        detail={"provider": provider, "id": provider_message_id},
        provider=provider,
        provider_message_id=provider_message_id,
        sent_at=utcnow(),
    )
    if made:
        apply_parked(session, message_id, provider, provider_message_id)
    mark_done(session, entry_id)
    return bool(made)


def _send_test(sessions: SharedSession, ready: Ready) -> tuple[Outcome, bool]:
    """A test key's message: finished like a live one, recorded as sent by `test`, no I/O."""
    provider_id = f"test_{ready.message_id}"
    with sessions.begin() as session:
        moved = record_sent(session, ready.entry_id, ready.message_id, TEST_PROVIDER, provider_id)
    return Outcome(ready.message_id, "sent", provider_id), moved


def _send(sessions: SharedSession, ready: Ready) -> tuple[Outcome, bool]:
    """Hand one message to its provider and record what it said; true when `sent` was new."""
    if ready.is_test:
        return _send_test(sessions, ready)
    channel, outlet = ready.channel, ready.providers.outlet(ready.channel)
    name = outlet.name
    started = time.perf_counter()
    try:
        result = outlet.send(ready.finished.prepared)
    except ChannelError as exc:
        with sessions.begin() as session:
            entry = session.get_one(OutboxEntry, ready.entry_id, populate_existing=True)
            outcome = _retry_or_fail(session, entry, exc, ready.providers, channel)
        kind = "retry" if outcome.status == MessageStatus.QUEUED else "failed"
        telemetry.sent(outcome.message_id, channel, name, kind, started, exc)
        return outcome, False
    telemetry.sent(ready.message_id, channel, name, "sent", started)
    # The provider has it: record `sent` first, in a transaction of its own, so that nothing
    # after this point (archiving included) can roll it back and cause a second send.
    with sessions.begin() as session:
        moved = record_sent(session, ready.entry_id, ready.message_id, name, result.message_id)
    return Outcome(ready.message_id, MessageStatus.SENT, result.message_id), moved


def _deliver(
    sessions: SharedSession, prepared: Prepared, generate: Generate | None
) -> tuple[Outcome, bool]:
    if isinstance(prepared, Outcome):
        return prepared, False
    if isinstance(prepared, Waiting):
        # With a lane the round goes on at once; without one (tests, scripts) it waits here.
        if generate is not None:
            return generate(prepared), False
        return generate_now(sessions, prepared), False  # type: ignore[arg-type]
    return _send(sessions, prepared)


def process_many(
    sessions: sessionmaker[Session] | SharedSession,
    entry_ids: Sequence[int],
    providers: Providers,
    on_sent: SentHook | None = None,
    generate: Generate | None = None,
) -> list[Outcome]:
    """Send claimed entries, an outcome each, in order.

    A round finishes several messages while only reading, for at most `PREPARE_BUDGET`
    seconds, and takes them into `sending` in one short transaction (`hcs.dispatch.preparing`);
    each is then sent and its `sent` recorded in a transaction of its own; what the round sent
    is archived in one transaction (one at a time when that fails). When preparing several at
    once fails, they are prepared one at a time: an entry that still fails is skipped (and
    logged) and keeps its lease, so the rest of the batch goes out. Messages needing AI text
    go to `generate` (the AI lane) when given, so no model call holds the round.
    """
    if not isinstance(sessions, SharedSession):
        shared = SharedSession(sessions)
        try:
            return process_many(shared, entry_ids, providers, on_sent, generate)
        finally:
            shared.close()
    outcomes: list[Outcome] = []
    rest, budget = list(entry_ids), PREPARE_BUDGET
    while rest:
        try:
            prepared = _prepare(sessions, rest, providers, budget)
        except OperationalError:
            raise  # the database, not an entry: the whole round waits for the next
        except Exception:
            if len(entry_ids) == 1:
                raise
            if budget > 0:
                log.warning("preparing a batch failed; one entry at a time", exc_info=True)
                budget = 0
            else:  # left leased: tried again when the lease ends, as if its worker had died
                log.exception("outbox entry %s could not be prepared", rest.pop(0))
            continue
        rest = rest[len(prepared) :]
        sent = []
        for item in prepared:
            outcome, moved = _deliver(sessions, item, generate)
            outcomes.append(outcome)
            if moved and isinstance(item, Ready):
                sent.append(item)
        if sent and on_sent is not None:
            _after_send(sessions, sent, on_sent)
    return outcomes


def _prepare(
    sessions: SharedSession, entry_ids: Sequence[int], providers: Providers, budget: float
) -> list[Prepared]:
    with sessions.reading() as session:
        plans = plan_some(session, entry_ids, providers, budget)
    with sessions.begin() as session:
        return apply_all(session, plans)


def process(
    sessions: sessionmaker[Session] | SharedSession,
    entry_id: int,
    providers: Providers,
    on_sent: SentHook | None = None,
) -> Outcome:
    """Send one outbox entry: finish and claim it, call the provider, record what it said."""
    [outcome] = process_many(sessions, [entry_id], providers, on_sent)
    return outcome


def _after_send(sessions: SharedSession, sent: Sequence[Ready], on_sent: SentHook) -> None:
    """Archive what was sent, together; when that fails, each alone, recording any failure."""
    try:
        with sessions.begin() as session:
            messages = current(session, Message, [ready.message_id for ready in sent])
            on_sent(session, [(messages[ready.message_id], ready.finished) for ready in sent])
    except Exception as exc:  # the send stands; a failure is recorded for an operator
        if len(sent) > 1:
            log.warning("after-send step failed for a round; one at a time", exc_info=True)
            for ready in sent:
                _after_send(sessions, [ready], on_sent)
            return
        log.exception("after-send step failed for %s", sent[0].message_id)
        # The error's text may quote a statement and its parameters (personal data): its kind only.
        reason = f"the archive entry could not be written ({type(exc).__name__}); retried later"
        with sessions.begin() as session:
            record_event(session, sent[0].message_id, "archive_failed", reason=reason)


def run_due(
    sessions: sessionmaker[Session],
    providers: Providers,
    *,
    owner: str,
    limit: int = 50,
    on_sent: SentHook | None = None,
    generate: Generate | None = None,
) -> list[Outcome]:
    """Claim a batch of due entries and process each; the outcomes, none when idle."""
    with sessions.begin() as session:
        ids = claim(session, owner=owner, limit=limit)
    if not ids:
        return []
    return process_many(sessions, ids, providers, on_sent, generate)
