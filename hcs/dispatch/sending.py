"""A round's provider calls: each ready message sent alone, or several in one call.

Where the provider takes several messages in one call (SendGrid personalizations, the outbox's
files), a round's messages of one channel and batch key go together, up to the provider's size,
and the call's `sent` are recorded in one transaction right after it. A crash can then leave at
most one call's messages in doubt, and they become `unknown` (`hcs.dispatch.unknown`), never
sent again blindly. A call refused outright (a 4xx: one bad address refuses them all) is sent
again one message at a time, so each gets its own verdict; any other failure of the call is
each message's failure (a retry, `unknown` after a timeout).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from channels.core import BatchSender
from channels.errors import ChannelError, TransientChannelError
from hcs.dispatch.claiming import Fence, refused
from hcs.dispatch.preparing import LEASE_LOST, Prepared, Ready
from hcs.dispatch.recording import TEST_PROVIDER, record_sent, retry_or_fail
from hcs.dispatch.recording_many import Taken, record_sent_many
from hcs.dispatch.sessions import SharedSession
from hcs.dispatch.transitions import Outcome
from hcs.messages import telemetry
from hcs.messages.models import OutboxEntry
from hcs.messages.status import MessageStatus

Sent = tuple[Outcome, bool]  # an outcome, and whether this call made the message `sent`


def _batch_of(item: Prepared) -> tuple[object, ...] | None:
    """What a ready message shares a call by (channel, provider, key); None: sent alone."""
    if not isinstance(item, Ready) or item.is_test:
        return None
    outlet = item.providers.outlet(item.channel)
    if not isinstance(outlet, BatchSender) or outlet.batch_size < 2:
        return None
    key = outlet.batch_key(item.finished.prepared)
    return None if key is None else (item.channel, outlet.name, key)


def group_calls(prepared: Sequence[Prepared]) -> list[list[Prepared]]:
    """The round's items as calls, in the order each call's first item came."""
    calls: list[list[Prepared]] = []
    open_calls: dict[tuple[object, ...], list[Prepared]] = {}
    for item in prepared:
        batch = _batch_of(item)
        if batch is None:
            calls.append([item])
            continue
        call = open_calls.get(batch)
        size = item.providers.outlet(item.channel).batch_size  # type: ignore[union-attr]
        if call is None or len(call) >= size:
            call = open_calls[batch] = []
            calls.append(call)
        call.append(item)
    return calls


def _test_sent(sessions: SharedSession, ready: Ready, fence: Fence) -> Sent:
    """A test key's message: finished like a live one, recorded as sent by `test`, no I/O."""
    provider_id = f"test_{ready.message_id}"
    token = fence.token(ready.entry_id)
    with sessions.begin() as session:
        moved = record_sent(
            session, ready.entry_id, ready.message_id, TEST_PROVIDER, provider_id, token=token
        )
    return Outcome(ready.message_id, "sent", provider_id), moved


def still_held(sessions: SharedSession, ready: Ready, fence: Fence) -> bool:
    """Renew the round's leases when a third of their time has passed; whether this one holds.

    A slow provider must not let a lease lapse mid-round and another worker take the rest.
    """
    if not fence.is_fresh():
        with sessions.begin() as session:
            fence.confirm(session, list(fence.tokens))
        fence.mark_renewed()
    return fence.holds(ready.entry_id)


def _lost(ready: Ready) -> Sent:
    return Outcome(ready.message_id, MessageStatus.SENDING, LEASE_LOST), False


def send_one(sessions: SharedSession, ready: Ready, fence: Fence) -> Sent:
    """Hand one message to its provider and record what it said."""
    if not still_held(sessions, ready, fence):  # another worker holds it now: send nothing
        return _lost(ready)
    if ready.is_test:
        return _test_sent(sessions, ready, fence)
    outlet = ready.providers.outlet(ready.channel)
    started = time.perf_counter()
    try:
        result = outlet.send(ready.finished.prepared)
    except ChannelError as exc:
        return _failed(sessions, ready, exc, fence, started), False
    return _record_sent(sessions, [ready], [result.message_id], fence, started)[0]


def send_call(sessions: SharedSession, call: Sequence[Ready], fence: Fence) -> list[Sent]:
    """Hand several messages to their provider in one call; an outcome each, in order."""
    held = [ready for ready in call if still_held(sessions, ready, fence)]
    if len(held) < 2:
        return [send_one(sessions, r, fence) if r in held else _lost(r) for r in call]
    outlet = held[0].providers.outlet(held[0].channel)
    assert isinstance(outlet, BatchSender)
    started = time.perf_counter()
    try:
        results = outlet.send_many([ready.finished.prepared for ready in held])
    except ChannelError as exc:
        if exc.refused and not isinstance(exc, TransientChannelError):  # each on its own
            answers = {ready.message_id: send_one(sessions, ready, fence) for ready in held}
        else:
            answers = {
                r.message_id: (_failed(sessions, r, exc, fence, started), False) for r in held
            }
        return [answers.get(ready.message_id) or _lost(ready) for ready in call]
    recorded = _record_sent(
        sessions, held, [result.message_id for result in results], fence, started
    )
    answers = {ready.message_id: sent for ready, sent in zip(held, recorded, strict=True)}
    return [answers.get(ready.message_id) or _lost(ready) for ready in call]


def _record_sent(
    sessions: SharedSession,
    call: Sequence[Ready],
    provider_ids: Sequence[str],
    fence: Fence,
    started: float,
) -> list[Sent]:
    """The provider has them: record `sent` first, in a transaction of its own, so that
    nothing after this point (archiving included) can roll it back and cause a second send."""
    channel = call[0].channel
    name = call[0].providers.outlet(channel).name
    with sessions.begin() as session:
        if len(call) == 1:
            [ready], [provider_id] = call, provider_ids
            token = fence.token(ready.entry_id)
            new = (
                {ready.message_id}
                if record_sent(
                    session, ready.entry_id, ready.message_id, name, provider_id, token=token
                )
                else set()
            )
        else:
            taken = [
                Taken(r.entry_id, r.message_id, fence.token(r.entry_id), provider_id)
                for r, provider_id in zip(call, provider_ids, strict=True)
            ]
            new = record_sent_many(session, taken, name)
    answers: list[Sent] = []
    for ready, provider_id in zip(call, provider_ids, strict=True):
        moved = ready.message_id in new
        detail = provider_id if moved else LEASE_LOST
        answers.append((Outcome(ready.message_id, MessageStatus.SENT, detail), moved))
    for ready in call:
        telemetry.sent(ready.message_id, channel, name, "sent", started)
    return answers


def _failed(
    sessions: SharedSession, ready: Ready, exc: ChannelError, fence: Fence, started: float
) -> Outcome:
    """Retry, fail or lose track of a message the provider did not take, while still held."""
    token = fence.token(ready.entry_id)
    with sessions.begin() as session:
        entry = session.get_one(
            OutboxEntry, ready.entry_id, populate_existing=True, with_for_update=True
        )
        if refused(entry, token):
            outcome = Outcome(ready.message_id, MessageStatus.SENDING, LEASE_LOST)
        else:
            outcome = retry_or_fail(session, entry, exc, ready.providers, ready.channel)
    # An ambiguous answer already reconciled by a report that came first counts as sent.
    kind = {MessageStatus.QUEUED: "retry", MessageStatus.UNKNOWN: "unknown"}
    kind |= {MessageStatus.SENT: "sent", MessageStatus.DELIVERED: "sent"}
    said = kind.get(MessageStatus(outcome.status), "failed")
    name = ready.providers.outlet(ready.channel).name
    telemetry.sent(outcome.message_id, ready.channel, name, said, started, exc)
    return outcome
