"""Dispatching: claim due outbox entries, finish each message, send it once, record the outcome.

A message moves `accepted`/`queued` → `sending` → `sent` by conditional updates, so two workers
can never both send it, and every write is fenced by the lease's token (`hcs.dispatch.claiming`).
429 and 5xx are retried with capped exponential backoff and jitter, or as late as the provider's
`Retry-After` asks, until the retry horizon (`HCS_SEND_RETRY_HORIZON`) has passed since the
first failure; then the message fails with a reason. Other provider refusals fail the message
with the provider's reason, unless the channel has a secondary provider: only definite refusals
(a 4xx other than 408/429, a refused connection) count toward moving to it, never a timeout or a
5xx, which may have been a send. A timeout after the request went out, or a message found still
`sending` when its worker's lease ended, makes it `unknown`, never sent again blindly
(`hcs.dispatch.unknown`).

A claimed batch costs few transactions: its messages are finished and taken into `sending`
several at a time (`hcs.dispatch.preparing`), each provider call's `sent` are recorded right
after it (a call may carry several messages: `hcs.dispatch.sending`), and what a round sent is
archived together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType
from typing import cast

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hcs.channels.registry import CHANNELS
from hcs.dispatch.claiming import LEASE, Fence, claim, lease_due, tokens_of
from hcs.dispatch.finishing import Finished
from hcs.dispatch.generating import Generate, generate_now
from hcs.dispatch.preparing import (
    PREPARE_BUDGET,
    Prepared,
    Ready,
    apply_all,
    as_now,
    plan_some,
)
from hcs.dispatch.providers import Providers
from hcs.dispatch.recording import BASE_DELAY, MAX_DELAY, TEST_PROVIDER, backoff, record_sent
from hcs.dispatch.sending import Sent, Taking, group_calls, send_call
from hcs.dispatch.sessions import SharedSession
from hcs.dispatch.transitions import Outcome, move, record_event
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.status import MessageStatus, Move

__all__ = [
    "Outcome",
    "SentHook",
    "SharedSession",
    "BASE_DELAY",
    "LEASE",
    "MAX_DELAY",
    "TEST_PROVIDER",
    "backoff",
    "claim",
    "process",
    "process_many",
    "record_sent",
    "round_size",
    "run_due",
]

log = logging.getLogger(__name__)

# Called with the messages a round sent, in the transaction that archives them.
SentHook = Callable[[Session, Sequence[tuple[Message, Finished]]], None]


def _deliver(
    sessions: SharedSession,
    call: Sequence[Prepared],
    taking: Taking,
    generate: Generate | None,
    then: Sequence[Prepared],
) -> list[Sent]:
    """One call's outcomes: messages handed to a provider together, or one item handled."""
    first = call[0]
    if isinstance(first, Ready):
        following = [item for item in then if isinstance(item, Ready)]
        return send_call(sessions, cast(Sequence[Ready], call), taking, following)
    if isinstance(first, Outcome):
        return [(first, False)]
    # With a lane the round goes on at once; without one (tests, scripts) it waits here.
    if generate is not None:
        return [(generate(first), False)]
    return [(generate_now(sessions, first), False)]  # type: ignore[arg-type]


def process_many(
    sessions: sessionmaker[Session] | SharedSession,
    entry_ids: Sequence[int],
    providers: Providers,
    on_sent: SentHook | None = None,
    generate: Generate | None = None,
    *,
    fence: Fence | None = None,
) -> list[Outcome]:
    """Send claimed entries, an outcome each, in order.

    A round finishes several messages while only reading, for at most `PREPARE_BUDGET`
    seconds, and takes them into `sending` in one short transaction (`hcs.dispatch.preparing`);
    each call to a provider (one message, or several) is made and its `sent` recorded in a
    transaction of its own; what the round sent
    is archived in one transaction (one at a time when that fails). When preparing several at
    once fails, they are prepared one at a time: an entry that still fails is skipped (and
    logged) and keeps its lease, so the rest of the batch goes out. Messages needing AI text
    go to `generate` (the AI lane) when given, so no model call holds the round.

    `fence` holds the leases the claim gave (`hcs.dispatch.claiming`); every write is checked
    against it. Without one, the entries' current tokens are taken as this caller's.
    """
    if not isinstance(sessions, SharedSession):
        shared = SharedSession(sessions)
        try:
            return process_many(shared, entry_ids, providers, on_sent, generate, fence=fence)
        finally:
            shared.close()
    if fence is None:
        with sessions.begin() as session:
            fence = Fence(tokens_of(session, entry_ids))
    outcomes: list[Outcome] = []
    rest, budget = list(entry_ids), PREPARE_BUDGET
    taking = Taking(fence)
    while rest:
        try:
            prepared, calls = _prepare(sessions, rest, providers, budget, taking)
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
        outcomes.extend(_deliver_round(sessions, prepared, calls, taking, on_sent, generate))
    return outcomes


def _deliver_round(
    sessions: SharedSession,
    prepared: Sequence[Prepared],
    calls: Sequence[list[Prepared]],
    taking: Taking,
    on_sent: SentHook | None,
    generate: Generate | None,
) -> list[Outcome]:
    """Send what a round prepared, call by call; archive what it sent; outcomes in order."""
    answers: dict[int, Outcome] = {}
    sent: list[Ready] = []
    fence = taking.fence
    for done, call in enumerate(calls):
        then = calls[done + 1] if done + 1 < len(calls) else []
        try:
            delivered = _deliver(sessions, call, taking, generate, then)
        except BaseException:
            _put_back(sessions, [item for later in calls[done + 1 :] for item in later], fence)
            raise
        for item, (outcome, moved) in zip(call, delivered, strict=True):
            answers[id(item)] = outcome
            if moved and isinstance(item, Ready):
                sent.append(item)
    if sent and on_sent is not None:
        for part in _archive_parts(sessions, sent):
            _after_send(sessions, part, on_sent)
    return [answers[id(item)] for item in prepared]


# On SQLite a write transaction holds the database's one write lock from its start, and writing
# the archive is CPU work done inside it (encryption, digests): there a round's archive is written
# `ARCHIVE_PART` messages a transaction, so an API send never waits out a whole round of email
# (measured for 200: 41 ms median and 52 ms at most, against 13 and 20 for 50). PostgreSQL locks
# rows, not the database: there a round's archive is one transaction.
ARCHIVE_PART = 50


def _archive_parts(sessions: SharedSession, sent: list[Ready]) -> list[list[Ready]]:
    if sessions.session.get_bind().dialect.name != "sqlite":
        return [sent]
    return [sent[start : start + ARCHIVE_PART] for start in range(0, len(sent), ARCHIVE_PART)]


def _put_back(sessions: SharedSession, untouched: Sequence[Prepared], fence: Fence) -> None:
    """A round broke off (the database went away mid-round): what it never handed to a provider
    is released for the next claim, and the next call's messages, taken into `sending` with the
    last record, go back to `queued`, so they do not become `unknown` when the lease ends. If
    the database is still away, those will (and wait)."""
    ready = [item for item in untouched if isinstance(item, Ready)]
    if not ready:
        return
    try:
        with sessions.begin() as session:
            held = fence.confirm(session, [item.entry_id for item in ready])
            back = [item.message_id for item in ready if item.entry_id in held]
            move(session, back, Move.PUT_BACK, sources=[MessageStatus.SENDING])
            session.execute(
                update(OutboxEntry).where(OutboxEntry.id.in_(held)).values(leased_until=None)
            )
    except Exception:
        log.warning("could not put back %s untouched messages", len(ready), exc_info=True)


def _prepare(
    sessions: SharedSession,
    entry_ids: Sequence[int],
    providers: Providers,
    budget: float,
    taking: Taking,
) -> tuple[list[Prepared], list[list[Prepared]]]:
    """Finish a round's messages while only reading, then write what was decided; the round's
    items and its calls. The first call's messages go into `sending` in that same write."""
    with sessions.reading() as session:
        plans = plan_some(session, entry_ids, providers, budget)
    with sessions.begin() as session:
        prepared = apply_all(session, plans, taking.fence)
        calls = group_calls(prepared)
        first = [item for item in calls[0] if isinstance(item, Ready)] if calls else []
        taking.take(session, first, confirmed=True)
    taking.fence.mark_renewed()
    return prepared, calls


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
            messages = as_now(session, [ready.message for ready in sent])
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


# Entries a round claims of one lane (a Celery task carries as many): its messages are finished,
# sent (one provider call where the provider batches) and archived together. Email goes out many
# to a provider call (SendGrid personalizations, the outbox's files; SMTP one a call on one
# reused connection), so its rounds are larger: a round's claim, reads, commits and archive
# transaction are paid once for more messages (README, "How fast it accepts and sends"). The
# other lanes send one message a call, often slowly (Twilio, a chat webhook, a PDF): smaller
# rounds keep several workers busy on a short queue.
ROUND_SIZE = 50
ROUND_SIZES: Mapping[str, int] = MappingProxyType({"email": 200})


def round_size(lane: str) -> int:
    """How many entries of `lane` one round claims, and one Celery task carries."""
    return ROUND_SIZES.get(lane, ROUND_SIZE)


def _lease_lanes(
    session: Session, owner: str, lease: timedelta, channels: Sequence[str] | None
) -> dict[int, int]:
    """Due entries of each of these lanes (every channel when None), each lane's round's worth."""
    by_size: dict[int, list[str]] = {}
    for lane in CHANNELS if channels is None else channels:
        by_size.setdefault(round_size(lane), []).append(lane)
    tokens: dict[int, int] = {}
    for size, lanes in by_size.items():
        tokens.update(lease_due(session, owner=owner, limit=size, lease=lease, channels=lanes))
    return tokens


def run_due(
    sessions: sessionmaker[Session] | SharedSession,
    providers: Providers,
    *,
    owner: str,
    on_sent: SentHook | None = None,
    generate: Generate | None = None,
    lease: timedelta = LEASE,
    channels: Sequence[str] | None = None,
) -> list[Outcome]:
    """Claim a batch of due entries and process each; the outcomes, none when idle.

    `channels` keeps the worker to its lanes (all channels when None); each lane's entries are
    claimed a round's worth at a time (`round_size`). A worker that passes
    the same `SharedSession` every round reads its versions once, not once a round.
    """
    with sessions.begin() as session:
        tokens = _lease_lanes(session, owner, lease, channels)
    if not tokens:
        return []
    fence = Fence(dict(tokens), lease)
    return process_many(sessions, list(tokens), providers, on_sent, generate, fence=fence)
