"""No blind resends: a send whose outcome is unknown waits for evidence, then for its policy.

A provider call that ended ambiguously (a read timeout, a connection dropped after the request
went out) or a message found still `sending` when its lease ended (its worker died between the
call and recording it) becomes `unknown`, never queued again as if nothing had gone out. Its
outbox entry waits for the reconciliation window (`HCS_UNKNOWN_WINDOW`): a provider's report
meanwhile reconciles it (`hcs.messages.resolving.reconcile`). With no evidence by then, the
category's policy (`HCS_UNKNOWN_POLICY`) decides: `resend` sends it again, marked
`possible_duplicate`; `hold` leaves it to a person (`hcs messages resolve`). Letters are held.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from channels.errors import ChannelError, TransientChannelError
from hcs.dispatch.transitions import Outcome, close, move, record_event
from hcs.infrastructure.clock import db_now
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.parking import reconcile_parked
from hcs.messages.resolving import duplicate_detail
from hcs.messages.status import MessageStatus, Move

RESEND, HOLD = "resend", "hold"
WORKER_LOST = "its worker stopped between the provider call and recording the answer"
RECONCILED = "reconciled by the provider's report that came while the send was in flight"
WAITING = "outcome unknown: waiting for a person (hcs messages resolve)"


def is_ambiguous(exc: ChannelError) -> bool:
    """A failure after which the provider may have the message: no answer, and no refusal."""
    return isinstance(exc, TransientChannelError) and exc.status is None and not exc.refused


def policy_for(settings: Settings, category: str, channel: str) -> str:
    """What an unknown send of this category becomes once its window passed: resend or hold."""
    if channel == "letter":  # a second letter is a second piece of paper in someone's hand
        return HOLD
    return dict(settings.unknown_policy).get(category, HOLD)


def lose_track(session: Session, entry: OutboxEntry, reason: str, settings: Settings) -> Outcome:
    """`sending` → `unknown`; the entry comes back after the reconciliation window."""
    move(
        session,
        entry.message_id,
        Move.LOSE_TRACK,
        detail={"reason": reason, "window": settings.unknown_window.total_seconds()},
    )
    entry.available_at = db_now(session) + settings.unknown_window
    entry.leased_until, entry.last_error = None, f"outcome unknown: {reason}"
    # The provider may have reported on it already, while the send was still in flight.
    reconciled = reconcile_parked(session, entry.message_id)
    if reconciled is not None:
        return Outcome(entry.message_id, reconciled, RECONCILED)
    return Outcome(entry.message_id, MessageStatus.UNKNOWN, reason)


def hold_for_a_person(session: Session, entry: OutboxEntry) -> Outcome:
    """The window passed with no evidence and the policy holds: the entry closes, it waits."""
    record_event(session, entry.message_id, "awaiting_resolution", reason=WAITING)
    close(session, entry, WAITING)
    return Outcome(entry.message_id, MessageStatus.UNKNOWN, WAITING)


def resend(session: Session, message: Message) -> None:
    """The window passed with no evidence and the policy resends: queued, possibly twice."""
    reason = "no evidence from the provider within the reconciliation window; sent again"
    move(session, message.id, Move.RESEND, detail=duplicate_detail(reason, "policy"))
