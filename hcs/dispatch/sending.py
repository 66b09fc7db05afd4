"""A round's provider calls: each ready message sent alone, or several in one call.

A ready message moves to `sending` only just before its own provider call (`Taking`): in the
transaction that recorded the previous call, or in one of its own. Where the provider takes
several messages in one call (SendGrid personalizations, the outbox's files), a round's messages
of one channel and batch key go together, up to the provider's size, and the call's `sent` are
recorded in one transaction right after it. A crash can then leave at most one call's messages
in doubt, and they become `unknown` (`hcs.dispatch.unknown`), never sent again blindly; what the
round had not yet handed over is claimed again as if never touched. A call refused outright (a
4xx: one bad address refuses them all) is sent again one message at a time, so each gets its own
verdict; any other failure of the call is each message's failure (a retry, `unknown` after a
timeout).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.core import BatchSender
from channels.errors import ChannelError, TransientChannelError
from hcs.dispatch.claiming import Fence, refused
from hcs.dispatch.preparing import LEASE_LOST, Prepared, Ready
from hcs.dispatch.recording import TEST_PROVIDER, record_sent, retry_or_fail
from hcs.dispatch.recording_many import Taken, record_sent_many
from hcs.dispatch.sessions import SharedSession
from hcs.dispatch.transitions import Outcome
from hcs.messages import telemetry
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.moves import move_each
from hcs.messages.status import MessageStatus, Move

Sent = tuple[Outcome, bool]  # an outcome, and whether this call made the message `sent`
CHANGED = "changed while it was prepared"


def _batch_of(item: Prepared) -> tuple[object, ...] | None:
    """What a ready message shares a call by (channel, provider, key); None: sent alone."""
    if not isinstance(item, Ready) or item.is_test:
        return None
    outlet = item.providers.outlet(item.channel)
    # `batch_size` marks a BatchSender (`_send_many` checks the rest once a call): a runtime
    # Protocol check for every message costs more than the grouping itself.
    size = getattr(outlet, "batch_size", 1)
    if not isinstance(size, int) or size < 2:
        return None
    key = cast(BatchSender, outlet).batch_key(item.finished.prepared)
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


def _lost(ready: Ready) -> Sent:
    return Outcome(ready.message_id, MessageStatus.SENDING, LEASE_LOST), False


class Taking:
    """A round's ready messages taken into `sending` call by call, under the round's fence."""

    def __init__(self, fence: Fence) -> None:
        self.fence = fence
        self.taken: set[str] = set()
        self.stopped: dict[str, Sent] = {}  # not taken: lost to another worker, or changed

    def needs(self, call: Sequence[Ready]) -> bool:
        """Whether some message of the call is neither taken nor stopped yet."""
        return any(
            r.message_id not in self.taken and r.message_id not in self.stopped for r in call
        )

    def take(self, session: Session, call: Sequence[Ready], *, confirmed: bool = False) -> None:
        """Move the call's messages into `sending`, those still held and unchanged.

        `confirmed`: the fence renewed its leases in this transaction already.
        """
        todo = [
            r for r in call if r.message_id not in self.taken and r.message_id not in self.stopped
        ]
        if not todo:
            return
        entry_ids = [r.entry_id for r in todo]
        if confirmed:
            held = {entry_id for entry_id in entry_ids if self.fence.holds(entry_id)}
        else:
            held = self.fence.confirm(session, entry_ids)
        mine = [r.message_id for r in todo if r.entry_id in held]
        self.taken |= set(move_each(session, mine, Move.TAKE)) if mine else set()
        for ready in todo:
            if ready.entry_id not in held:
                self.stopped[ready.message_id] = _lost(ready)
            elif ready.message_id not in self.taken:
                self.stopped[ready.message_id] = _changed(session, ready)

    def outcome(self, ready: Ready) -> Sent:
        """What became of a message the round did not send."""
        return self.stopped.get(ready.message_id) or _lost(ready)


def _changed(session: Session, ready: Ready) -> Sent:
    """Recalled or moved on since it was prepared: left for the next round to decide."""
    session.execute(
        update(OutboxEntry).where(OutboxEntry.id == ready.entry_id).values(leased_until=None)
    )
    status = session.scalar(select(Message.status).where(Message.id == ready.message_id))
    return Outcome(ready.message_id, str(status), CHANGED), False


def still_held(sessions: SharedSession, ready: Ready, fence: Fence) -> bool:
    """Renew the round's leases when a third of their time has passed; whether this one holds.

    A slow provider must not let a lease lapse mid-round and another worker take the rest.
    """
    if not fence.is_fresh():
        with sessions.begin() as session:
            fence.confirm(session, list(fence.tokens))
        fence.mark_renewed()
    return fence.holds(ready.entry_id)


def send_call(
    sessions: SharedSession, call: Sequence[Ready], taking: Taking, then: Sequence[Ready] = ()
) -> list[Sent]:
    """Hand one call's messages to their provider; an outcome each, in order.

    `then` is the next call's messages, taken into `sending` with this call's record.
    """
    if taking.needs(call):
        with sessions.begin() as session:
            taking.take(session, call)
    held = [
        r for r in call if r.message_id in taking.taken and still_held(sessions, r, taking.fence)
    ]
    answers: dict[str, Sent] = {}
    if len(held) == 1:
        answers[held[0].message_id] = _send_one(sessions, held[0], taking, then)
    elif held:
        answers.update(_send_many(sessions, held, taking, then))
    return [answers.get(r.message_id) or taking.outcome(r) for r in call]


def _send_one(sessions: SharedSession, ready: Ready, taking: Taking, then: Sequence[Ready]) -> Sent:
    started = time.perf_counter()
    if ready.is_test:  # finished like a live one, recorded as sent by `test`, no I/O
        provider_id = f"test_{ready.message_id}"
        return _record_sent(sessions, [ready], [provider_id], taking, then, started, TEST_PROVIDER)[
            0
        ]
    outlet = ready.providers.outlet(ready.channel)
    try:
        result = outlet.send(ready.finished.prepared)
    except ChannelError as exc:
        return _failed(sessions, ready, exc, taking.fence, started), False
    return _record_sent(sessions, [ready], [result.message_id], taking, then, started)[0]


def _send_many(
    sessions: SharedSession, held: Sequence[Ready], taking: Taking, then: Sequence[Ready]
) -> dict[str, Sent]:
    outlet = held[0].providers.outlet(held[0].channel)
    assert isinstance(outlet, BatchSender)
    started = time.perf_counter()
    try:
        results = outlet.send_many([ready.finished.prepared for ready in held])
    except ChannelError as exc:
        if exc.refused and not isinstance(exc, TransientChannelError):  # each on its own
            return {r.message_id: _send_one(sessions, r, taking, ()) for r in held}
        return {
            r.message_id: (_failed(sessions, r, exc, taking.fence, started), False) for r in held
        }
    ids = [result.message_id for result in results]
    recorded = _record_sent(sessions, held, ids, taking, then, started)
    return {ready.message_id: sent for ready, sent in zip(held, recorded, strict=True)}


def _record_sent(
    sessions: SharedSession,
    call: Sequence[Ready],
    provider_ids: Sequence[str],
    taking: Taking,
    then: Sequence[Ready],
    started: float,
    provider: str | None = None,
) -> list[Sent]:
    """The provider has them: record `sent` first, in a transaction of its own, so that
    nothing after this point (archiving included) can roll it back and cause a second send."""
    channel, fence = call[0].channel, taking.fence
    name = provider or call[0].providers.outlet(channel).name
    with sessions.begin() as session:
        if len(call) == 1:
            [ready], [provider_id] = call, provider_ids
            token = fence.token(ready.entry_id)
            made = record_sent(
                session, ready.entry_id, ready.message_id, name, provider_id, token=token
            )
            new = {ready.message_id} if made else set()
        else:
            taken = [
                Taken(r.entry_id, r.message_id, fence.token(r.entry_id), provider_id)
                for r, provider_id in zip(call, provider_ids, strict=True)
            ]
            new = record_sent_many(session, taken, name)
        taking.take(session, then)
    answers: list[Sent] = []
    for ready, provider_id in zip(call, provider_ids, strict=True):
        moved = ready.message_id in new
        # Not recorded: another claim holds it, and it stays `sending` until a sweep finds it.
        sent = Outcome(ready.message_id, MessageStatus.SENT, provider_id), True
        answers.append(sent if moved else _lost(ready))
        if provider is None:
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
