"""Preparing claimed entries: each message finished and made ready to send, or stopped.

Two steps, so that finishing (rendering, MIME, PDF) never holds a write lock: `plan_some`
reads and finishes several entries in a transaction that only reads (on SQLite a snapshot that
leaves the write lock free), then `apply_all` writes what was decided in one short transaction,
after checking that no message changed in between (a recall, a sign-off): one that did is left
for the next round. A ready message moves to `sending` only just before its own provider call.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from channels.errors import ChannelError
from hcs.dispatch.claiming import Fence
from hcs.dispatch.finishing import Finished, finish
from hcs.dispatch.providers import Providers
from hcs.dispatch.recall import hold
from hcs.dispatch.tampering import TAMPERED, is_tampered, note_tampered
from hcs.dispatch.transitions import Outcome, close, move, record_event, suppress_message
from hcs.dispatch.unknown import (
    RESEND,
    WORKER_LOST,
    hold_for_a_person,
    lose_track,
    policy_for,
    resend,
)
from hcs.infrastructure.lists import among, by_array, one_of
from hcs.messages import telemetry
from hcs.messages.consent import suppression_reasons
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.redaction import redact
from hcs.messages.status import UNSENT, MessageStatus, Move
from hcs.signoffs.gate import NeedsText, gate
from templates_store.errors import TemplateStoreError
from templates_store.models import Template, TemplateVersion
from templates_store.status import SENDABLE

# How long one round may spend finishing messages before it sends them.
PREPARE_BUDGET = 0.25
# What an unexpected error while finishing records: a code and the error's class, never its
# text (which may quote the customer's data or SQL).
FINISHING_ERROR = "finishing_error"
# A round's entry that another worker claimed after this one's lease ended: left to it.
LEASE_LOST = "lease lost to another worker"


@dataclass(frozen=True)
class Ready:
    """A message finished and taken into `sending`: what is left is to send it."""

    entry_id: int
    message_id: str
    channel: str
    providers: Providers
    finished: Finished
    # The message as read, kept for the round (the session's identity map alone would let it
    # go), so the after-send step reads only what may have changed since (`as_now`).
    message: Message = field(compare=False, repr=False)
    is_test: bool = False  # sent with a test key: recorded as sent, never handed to a provider


@dataclass(frozen=True)
class Waiting:
    """A message whose AI slots need texts generated before a person can sign them off."""

    entry_id: int
    providers: Providers
    needs: NeedsText


Prepared = Ready | Waiting | Outcome


@dataclass(frozen=True)
class Plan:
    """What reading decided for one entry: `action` is send, wait, hold, fail, poison or close."""

    entry: OutboxEntry
    message: Message
    status: str  # the message's status when it was read
    providers: Providers
    action: str
    finished: Finished | None = None
    needs: NeedsText | None = None
    reason: str = ""
    error: str = ""  # poison: the class of the unexpected error finishing raised
    resend: bool = False  # an unknown message its policy sends again (`possible_duplicate`)


_V, _T = TemplateVersion.__table__.c, Template.__table__.c
_STATE = (
    select(_V.status, _V.suspended_at, _T.retired_at)
    .select_from(TemplateVersion.__table__.join(Template.__table__, _T.id == _V.template_id))
    .where(_V.id == bindparam("version_id"))
)


def current(session: Session, model: type[Any], keys: Sequence[object]) -> dict[Any, Any]:
    """Rows as the database holds them now, whatever the session remembers, by primary key."""
    which = among(model.id, keys, array=by_array(session))
    query = select(model).where(which).execution_options(populate_existing=True)
    return {row.id: row for row in session.scalars(query)}


# What a message keeps from its acceptance on; every other column may change under a worker
# (its status and provider ids, its recipient and data redacted by an erasure).
_FIXED = frozenset(
    {"id", "template_key", "version_id", "version_number", "channel", "category", "locale"}
    | {"batch_id", "requested_by", "reference", "created_at", "send_at", "is_test"}
)
_CHANGING = [column for column in Message.__table__.c if column.name not in _FIXED]
_MESSAGE_ID = Message.__table__.c.id
_AS_NOW_MESSAGES = {
    array: select(_MESSAGE_ID, *_CHANGING).where(one_of(_MESSAGE_ID, "ids", array=array))
    for array in (False, True)
}


def as_now(session: Session, messages: Sequence[Message]) -> dict[str, Message]:
    """These messages as the database holds them now, by id: those the session still holds
    brought up to date by one light query (only the columns that can change), any other
    loaded whole."""
    held = {message.id: message for message in messages if message in session}
    statement = _AS_NOW_MESSAGES[by_array(session)]
    fresh = session.execute(statement, {"ids": list(held)}) if held else ()
    for row in fresh:
        for column in _CHANGING:
            set_committed_value(held[row.id], column.key, row._mapping[column])
    if missing := [message.id for message in messages if message.id not in held]:
        held |= current(session, Message, missing)
    return held


def _state(session: Session, version_id: int, states: dict[Any, Any]) -> Any:
    """A version's status, suspension and retirement, read once per round."""
    if version_id not in states:
        states[version_id] = session.execute(_STATE, {"version_id": version_id}).one()
    return states[version_id]


def _is_tampered(session: Session, version: TemplateVersion, states: dict[Any, Any]) -> bool:
    """`is_tampered`, checked once per version a round: its row cannot change while read."""
    key = ("tampered", version.id)
    if key not in states:
        states[key] = is_tampered(session, version)
    return bool(states[key])


def _decide(
    session: Session,
    entry: OutboxEntry,
    message: Message,
    providers: Providers,
    states: dict[Any, Any],
    refused: Mapping[str, str],
) -> dict[str, Any]:
    """Read and finish one message; what to do with it, as `Plan` fields. Writes nothing."""
    if entry.done_at is not None:
        return {"action": "done"}
    if message.status == MessageStatus.SENDING:  # never resent blindly: it may have gone out
        return {"action": "unknown", "reason": WORKER_LOST}
    if message.status == MessageStatus.UNKNOWN:  # its reconciliation window passed
        if policy_for(providers.settings, message.category, message.channel) != RESEND:
            return {"action": "await_person"}
        return {**_decide_sendable(session, message, providers, states), "resend": True}
    if message.status not in UNSENT:
        return {"action": "close", "reason": "already handled"}
    # Consent may have been withdrawn since acceptance (a STOP, a bounce, an unsubscribe).
    if message.id in refused:
        return {"action": "suppress", "reason": refused[message.id]}
    return _decide_sendable(session, message, providers, states)


def _decide_sendable(
    session: Session, message: Message, providers: Providers, states: dict[Any, Any]
) -> dict[str, Any]:
    status, suspended_at, retired_at = _state(session, message.version_id, states)
    if suspended_at is not None:
        return {"action": "hold", "reason": f"version {message.version_number} is suspended"}
    # Held for the session's life: its identity map alone would let the version go.
    kept = session.info.setdefault("hcs.versions", {})
    kept[message.version_id] = session.get_one(TemplateVersion, message.version_id)
    if retired_at is not None or status not in SENDABLE:
        reason = f"version {message.version_number} of {message.template_key!r} is {status.value}"
        return {"action": "fail", "reason": reason}
    if _is_tampered(session, kept[message.version_id], states):
        return {"action": "fail", "reason": TAMPERED}
    try:
        return _finish(session, message, providers)
    except (TemplateStoreError, ChannelError) as exc:
        reason = redact(f"cannot be finished: {exc}", message.to, message.recipient_key)
        return {"action": "fail", "reason": reason}
    except SQLAlchemyError:
        raise  # the database, not the message
    except Exception as exc:  # a poison message: counted, and failed after the bound
        error = type(exc).__name__
        return {"action": "poison", "reason": f"{FINISHING_ERROR}: {error}", "error": error}


def _finish(session: Session, message: Message, providers: Providers) -> dict[str, Any]:
    slot_text = gate(session, message)
    if isinstance(slot_text, NeedsText):
        return {"action": "wait", "needs": slot_text}
    if isinstance(slot_text, str):
        return {"action": "close", "reason": slot_text}
    with telemetry.rendering(message.channel):
        finished = finish(session, message, providers, slot_text=slot_text)
    return {"action": "send", "finished": finished}


def plan_some(
    session: Session, entry_ids: Sequence[int], providers: Providers, budget: float
) -> list[Plan]:
    """Decide for entries in order until `budget` seconds are spent (at least one)."""
    entries = current(session, OutboxEntry, entry_ids)
    messages = current(session, Message, [entry.message_id for entry in entries.values()])
    started, plans = time.perf_counter(), []
    states: dict[Any, Any] = {}
    refused = _suppressed(session, list(messages.values()))
    for entry_id in entry_ids:
        entry = entries[entry_id]
        message = messages[entry.message_id]
        # After repeated refusals the channel's secondary provider, when there is one, takes over.
        chosen = providers.for_attempt(message.channel, entry.refusals)
        decided = _decide(session, entry, message, chosen, states, refused)
        plans.append(Plan(entry, message, message.status, chosen, **decided))
        if time.perf_counter() - started >= budget:
            break
    return plans


def _suppressed(session: Session, messages: Sequence[Message]) -> dict[str, str]:
    """Why each message that must not be sent now must not, by message id (a query a kind)."""
    kinds: dict[tuple[str, str], list[Message]] = {}
    for message in messages:
        kinds.setdefault((message.channel, message.category), []).append(message)
    refused = {}
    for (channel, category), some in kinds.items():
        keys = [message.recipient_key for message in some]
        reasons = suppression_reasons(session, keys, channel, category)
        refused.update({m.id: reasons[m.recipient_key] for m in some if m.recipient_key in reasons})
    return refused


def _apply(session: Session, plan: Plan) -> Prepared:
    entry, message, action = plan.entry, plan.message, plan.action
    if action == "done":
        return Outcome(message.id, "done", "already done")
    if entry.done_at is not None or message.status != plan.status:
        entry.leased_until = None  # changed while it was read: the next round decides again
        return Outcome(message.id, message.status, "changed while it was prepared")
    if action == "unknown":
        return lose_track(session, entry, plan.reason, plan.providers.settings)
    if action == "await_person":
        return hold_for_a_person(session, entry)
    if plan.resend:
        resend(session, message)
    if action == "hold":
        hold(session, message, plan.reason)
        return Outcome(message.id, MessageStatus.HELD, "the version is suspended")
    if action == "close":
        close(session, entry)
        return Outcome(message.id, message.status, plan.reason)
    if action == "fail":
        if plan.reason == TAMPERED:
            note_tampered(session, message, session.get_one(TemplateVersion, message.version_id))
        move(session, message.id, Move.FAIL, detail={"reason": plan.reason}, reason=plan.reason)
        close(session, entry, plan.reason)
        return Outcome(message.id, MessageStatus.FAILED, plan.reason)
    if action == "suppress":
        suppress_message(session, entry, plan.reason)
        return Outcome(message.id, MessageStatus.SUPPRESSED, plan.reason)
    if action == "poison":
        return _count_poison(session, plan)
    if action == "wait":
        assert plan.needs is not None
        return Waiting(entry.id, plan.providers, plan.needs)
    assert plan.finished is not None
    return Ready(
        entry.id,
        message.id,
        message.channel,
        plan.providers,
        plan.finished,
        message,
        message.is_test,
    )


def apply_all(session: Session, plans: Sequence[Plan], fence: Fence) -> list[Prepared]:
    """Write what was decided, for entries and messages as they are now; what to do next.

    Only for entries whose leases `fence` still holds: they are renewed first, in this
    transaction (row-locked on PostgreSQL); an entry claimed again meanwhile is left to its
    new holder.
    """
    held = fence.confirm(session, [plan.entry.id for plan in plans])
    _refresh_unusual(session, [plan for plan in plans if plan.entry.id in held])
    # Ready messages stay as they are, leased to this worker, until just before their own
    # provider call takes them into `sending` (`hcs.dispatch.sending`): a worker that dies
    # mid-round leaves the ones it never handed over to be claimed again, not `unknown`.
    return [_apply(session, plan) if plan.entry.id in held else _lost(plan) for plan in plans]


_ENTRY_STATES = select(OutboxEntry.id, OutboxEntry.done_at, Message.status).join(
    Message, Message.id == OutboxEntry.message_id
)


def _refresh_unusual(session: Session, plans: Sequence[Plan]) -> None:
    """Reload the entries and messages that `_apply` writes through, or that changed since
    they were read; a message still as read and ready to send needs neither (one light query).
    """
    sends = {plan.entry.id: plan for plan in plans if plan.action == "send"}
    rows: Iterable[Any] = (
        session.execute(_ENTRY_STATES.where(among(OutboxEntry.id, sends, array=by_array(session))))
        if sends
        else ()
    )
    unchanged = {
        entry_id
        for entry_id, done_at, status in rows
        if done_at is None and status == sends[entry_id].status
    }
    stale = [plan for plan in plans if plan.entry.id not in unchanged]
    if stale:
        current(session, OutboxEntry, [plan.entry.id for plan in stale])
        current(session, Message, [plan.message.id for plan in stale])


def _lost(plan: Plan) -> Outcome:
    return Outcome(plan.message.id, plan.status, LEASE_LOST)


def _count_poison(session: Session, plan: Plan) -> Outcome:
    """An unexpected error while finishing: one more attempt; at the bound the message fails.

    Below the bound the entry keeps its lease and is tried again when the lease ends.
    """
    entry, message = plan.entry, plan.message
    entry.attempts += 1
    entry.last_error = plan.reason
    detail = {"reason": FINISHING_ERROR, "error": plan.error, "attempt": entry.attempts}
    if entry.attempts < plan.providers.settings.dispatch_finishing_attempts:
        record_event(session, message.id, FINISHING_ERROR, **detail)
        return Outcome(message.id, message.status, plan.reason)
    move(session, message.id, Move.FAIL, detail=detail, reason=plan.reason)
    close(session, entry, plan.reason)
    return Outcome(message.id, MessageStatus.FAILED, plan.reason)
