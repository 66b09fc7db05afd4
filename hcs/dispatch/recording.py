"""Recording what a provider said about one message: `sent`, a retry, a failure, `unknown`.

Every write here is about an entry the caller holds under a fenced lease
(`hcs.dispatch.claiming`): `record_sent` checks the token in its own statement, the others run
on the entry read row-locked after `claiming.refused` said it is still the caller's.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from channels.errors import (
    ChannelError,
    InvalidContent,
    InvalidRecipient,
    TransientChannelError,
    UnreachableRecipient,
)
from hcs.archive import reading as archive_reading
from hcs.dispatch.providers import Providers
from hcs.dispatch.transitions import (
    Outcome,
    close,
    close_if_held,
    mark_done,
    move,
    record_sent_at_once,
    suppress_message,
)
from hcs.dispatch.unknown import is_ambiguous, lose_track
from hcs.infrastructure.clock import db_now
from hcs.infrastructure.config import format_duration
from hcs.messages.consent import CARRIER_SOURCE
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.optouts import suppress
from hcs.messages.parking import PARKED_FOR, apply_parked
from hcs.messages.redaction import redact
from hcs.messages.status import MessageStatus, Move
from templates_store.orm import utcnow

BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=10)
# The provider name recorded for messages of test keys, which no provider ever sees.
TEST_PROVIDER = archive_reading.TEST_PROVIDER


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2s, 4s, 8s, ... capped at ten minutes."""
    ceiling: timedelta = min(BASE_DELAY * (2 ** max(attempt - 1, 0)), MAX_DELAY)
    return ceiling * (rng or random).uniform(0.5, 1.0)


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


def retry_or_fail(
    session: Session, entry: OutboxEntry, exc: ChannelError, providers: Providers, channel: str
) -> Outcome:
    message = session.get_one(Message, entry.message_id)
    # Providers quote the recipient in their reasons: kept and shown without it.
    detail = redact(f"{type(exc).__name__}: {exc}", message.to, message.recipient_key)
    now = db_now(session)
    if is_ambiguous(exc):  # the provider may have it: never sent again blindly
        entry.attempts += 1
        return lose_track(session, entry, detail, providers.settings)
    entry.attempts += 1
    refusal = _counts_toward_failover(exc)
    fail_over = (
        refusal and channel in providers.fallbacks and entry.refusals < providers.failover_after
    )
    entry.refusals += int(refusal)
    if isinstance(exc, UnreachableRecipient):
        return _suppress(session, message, entry, channel)
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


def _suppress(session: Session, message: Message, entry: OutboxEntry, channel: str) -> Outcome:
    """The provider says the recipient unsubscribed at their carrier: suppress them there."""
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
    session: Session,
    entry_id: int,
    message_id: str,
    provider: str,
    provider_message_id: str | None,
    *,
    token: int | None = None,
) -> bool:
    """The provider took a message: `sent` (once), its event, the reports parked for it, and
    its entry closed; true when `sent` was new.

    With `token`, only while the entry's lease is still that token's: a worker overtaken by
    another claim records nothing (the provider's own report reconciles the message).
    """
    if session.get_bind().dialect.name == "postgresql":
        since = utcnow() - PARKED_FOR
        moved, parked = record_sent_at_once(
            session,
            entry_id,
            message_id,
            provider,
            provider_message_id,
            parked_since=since,
            token=token,
        )
        if moved and parked:
            apply_parked(session, message_id, provider, provider_message_id)
        return moved
    if token is not None and not close_if_held(session, entry_id, token):
        return False
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
