"""The life of a message: its statuses and the one table of allowed moves, with their events.

A message is written `accepted` (or `suppressed`, its consent refused) and then changes status
only by the moves of `Move`, the table, each made by `hcs.messages.moves.move` as one conditional
UPDATE. A move records the event named in its row (`None`: none; taking a round's messages into
`sending` records nothing, for speed). Moves a provider's report makes (`reported`) are found by
the report's kind, and `hcs.messages.events` records the report itself, moved or not. A new
move, or a new status's moves, is one line of the table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum, StrEnum, unique

from hcs.errors import InvalidTransition


class MessageStatus(StrEnum):
    """Where a message stands; the values are what the database and the API hold."""

    ACCEPTED = "accepted"
    AWAITING_SIGNOFF = "awaiting_signoff"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"
    SUPPRESSED = "suppressed"
    HELD = "held"
    CANCELLED = "cancelled"
    # The provider call's outcome is not known (a timeout after the request went out, a worker
    # that died between the call and recording it): never sent again blindly.
    UNKNOWN = "unknown"


S = MessageStatus


@dataclass(frozen=True)
class Transition:
    """One row: from any of `sources` to `target`, recording `event` (a `MessageEvent` kind)."""

    sources: frozenset[MessageStatus]
    target: MessageStatus
    event: str | None
    reported: bool = False  # made by a provider's report whose kind is `event`


def _row(*sources: S, to: S, event: str | None, reported: bool = False) -> Transition:
    return Transition(frozenset(sources), to, event, reported)


@unique
class Move(Enum):
    """The one table of allowed moves: each move's name, and its row."""

    TAKE = _row(S.ACCEPTED, S.QUEUED, to=S.SENDING, event=None)
    SEND = _row(S.SENDING, to=S.SENT, event="sent")
    RETRY = _row(S.SENDING, to=S.QUEUED, event="retry")
    # A round that broke off before handing these to a provider (hcs.dispatch.rounds).
    PUT_BACK = _row(S.SENDING, to=S.QUEUED, event=None)
    FAIL = _row(S.ACCEPTED, S.QUEUED, S.SENDING, to=S.FAILED, event="failed")
    # Consent withdrawn after acceptance (a STOP, a bounce), or the provider's 21610 answer.
    SUPPRESS = _row(S.ACCEPTED, S.QUEUED, S.SENDING, to=S.SUPPRESSED, event="suppressed")
    HOLD = _row(S.ACCEPTED, S.QUEUED, S.SENDING, S.AWAITING_SIGNOFF, to=S.HELD, event="held")
    RELEASE = _row(S.HELD, to=S.QUEUED, event="released")
    RELEASE_TO_SIGNOFF = _row(S.HELD, to=S.AWAITING_SIGNOFF, event="released")
    AWAIT_SIGNOFF = _row(S.ACCEPTED, S.QUEUED, to=S.AWAITING_SIGNOFF, event="awaiting_signoff")
    SIGN_OFF = _row(S.AWAITING_SIGNOFF, to=S.QUEUED, event="signed_off")
    # A recalled message keeps its pending sign-off: rejecting or expiring that still ends it.
    REJECT_SIGNOFF = _row(S.AWAITING_SIGNOFF, S.HELD, to=S.REJECTED, event="signoff_rejected")
    EXPIRE_SIGNOFF = _row(S.AWAITING_SIGNOFF, S.HELD, to=S.REJECTED, event="signoff_expired")
    # An operator's deliberate retry (`hcs messages retry`) of a message no provider took.
    REQUEUE = _row(S.FAILED, to=S.QUEUED, event="requeued")
    # No blind resends (hcs.dispatch.unknown): a send whose outcome is unknown waits for
    # evidence (a provider's report reconciles it), then its category's policy or a person.
    LOSE_TRACK = _row(S.SENDING, to=S.UNKNOWN, event="unknown")
    RECONCILE = _row(S.UNKNOWN, to=S.SENT, event="reconciled")
    RESEND = _row(S.UNKNOWN, to=S.QUEUED, event="possible_duplicate")
    RESOLVE_SENT = _row(S.UNKNOWN, to=S.SENT, event="resolved_sent")
    RESOLVE_FAILED = _row(S.UNKNOWN, to=S.FAILED, event="resolved_failed")
    # The caller's cancel, while no worker holds the message (hcs.messages.cancelling).
    CANCEL = _row(
        S.ACCEPTED, S.QUEUED, S.AWAITING_SIGNOFF, S.HELD, to=S.CANCELLED, event="cancelled"
    )
    REPORT_DELIVERED = _row(S.SENT, to=S.DELIVERED, event="delivered", reported=True)
    REPORT_READ = _row(S.SENT, to=S.DELIVERED, event="read", reported=True)
    REPORT_BOUNCED = _row(S.SENT, S.DELIVERED, to=S.FAILED, event="bounced", reported=True)
    REPORT_FAILED = _row(S.SENT, S.DELIVERED, to=S.FAILED, event="failed", reported=True)

    def __str__(self) -> str:
        return self.name.lower()


# The table as a mapping, in the shape of `templates_store.status.TRANSITIONS`.
TRANSITIONS: dict[Move, Transition] = {move: move.value for move in Move}

# The statuses a message is written in (with a first event of the same name).
STARTS = frozenset({S.ACCEPTED, S.SUPPRESSED})

# A provider report's kind -> the move it makes; reports of other kinds move nothing.
REPORTED: dict[str, Move] = {
    row.event: move for move, row in TRANSITIONS.items() if row.reported and row.event
}

# Before any provider was called: what a dispatcher may still take, fail or hold.
UNSENT = Move.FAIL.value.sources


def sources_of(which: Move, asked: Collection[MessageStatus] | None = None) -> frozenset[S]:
    """The statuses `which` moves from: those `asked` for, all the row's when none.

    Raises `InvalidTransition` when the table does not allow one of them.
    """
    row = which.value
    if asked is None:
        return row.sources
    refused = sorted(set(asked) - row.sources)
    if refused or not asked:
        shown = ", ".join(refused) or "nothing"
        raise InvalidTransition(f"a message cannot move from {shown} to {row.target} ({which})")
    return frozenset(asked)


def is_allowed(source: MessageStatus, target: MessageStatus) -> bool:
    """Whether any move of the table takes a message from `source` to `target`."""
    return any(source in row.sources and row.target is target for row in TRANSITIONS.values())
