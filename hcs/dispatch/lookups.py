"""Reconciling `unknown` by asking the provider, during the reconciliation window.

A send whose outcome is unknown (`hcs.dispatch.unknown`) waits for evidence. Besides the
provider's own reports (webhooks), the worker holding the housekeeping lease asks providers
that can be asked (`channels.core.Lookup`: Twilio for SMS and WhatsApp, SendGrid's Email
Activity API) what became of a few such messages each round. What a provider holds resolves
the message as its report would (`sent`, `delivered` or `failed`, the same events), audited;
nothing found leaves it `unknown` until its window ends and its policy decides. A lookup that
fails (a timeout) changes nothing and is tried again next round; a provider whose lookup API is
not enabled (SendGrid without the add-on) is skipped, logged once, and its reports still count.
SMTP, the chat webhook, the outboxes and letters cannot be asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from channels.core import DeliveryEvent, Lookup
from channels.errors import ChannelError, LookupUnavailable
from hcs import archive
from hcs.audit import record
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import Providers
from hcs.infrastructure.clock import db_now
from hcs.messages.events import record_delivery_event
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from hcs.messages.resolving import reconcile
from hcs.messages.status import MessageStatus
from hcs.signoffs.gate import signed_off_texts
from templates_store.errors import TemplateStoreError

log = logging.getLogger(__name__)
EVIDENCE = "provider lookup"
# A provider whose lookup API answered "not enabled" is asked again after this long.
UNAVAILABLE_FOR = 3600.0


@dataclass(frozen=True)
class Ask:
    """One message to ask its provider about, with what the provider needs to find it."""

    message_id: str
    provider: str
    lookup: Lookup
    prepared: object
    provider_message_id: str | None
    since: datetime


class ProviderLookups:
    """Asks providers about `unknown` messages: a few a round, each at most once per `every`."""

    def __init__(
        self,
        providers: Providers,
        keys: archive.Keyring | None = None,
        *,
        per_round: int = 20,
        every: timedelta = timedelta(minutes=1),
        budget: float = 10.0,
    ) -> None:
        self.providers, self.keys = providers, keys
        self.per_round, self.every, self.budget = per_round, every.total_seconds(), budget
        self.asked: dict[str, float] = {}
        self.unavailable: dict[str, float] = {}

    def run(self, sessions: sessionmaker[Session]) -> int:
        """One round: ask, then record what was found; how many messages were resolved."""
        if self.per_round <= 0:
            return 0
        with sessions.begin() as session:
            asks = self._asks(session)
        found = self._ask_all(asks)
        resolved = 0
        for ask, events in found:
            with sessions.begin() as session:
                resolved += settle(session, ask, events, keys=self.keys)
        return resolved

    def _asks(self, session: Session) -> list[Ask]:
        asks: list[Ask] = []
        for message, entry in candidates(session, self.per_round * 5, skip=self._recent()):
            if len(asks) >= self.per_round:
                break
            ask = self._ask_for(session, message, entry)
            if ask is not None:
                asks.append(ask)
        return asks

    def _recent(self) -> list[str]:
        """The messages asked about within `every` (the others are forgotten)."""
        now = time.monotonic()
        self.asked = {key: at for key, at in self.asked.items() if now - at < self.every}
        return list(self.asked)

    def _ask_for(self, session: Session, message: Message, entry: OutboxEntry) -> Ask | None:
        """What to ask the provider that sent it; None when that provider cannot be asked."""
        chosen = self.providers.for_attempt(message.channel, entry.refusals)
        lookup = lookup_of(chosen.outlet(message.channel))
        name = chosen.name(message.channel)
        if lookup is None or self._is_unavailable(name):
            return None
        try:
            texts = signed_off_texts(session, message)
            finished = finish(session, message, chosen, slot_text=texts, sending=False)
        except (TemplateStoreError, ChannelError) as exc:
            log.warning("cannot look up message %s: %s", message.id, type(exc).__name__)
            return None
        since = attempted_at(session, message.id) - self._lease()
        sid = message.provider_message_id
        return Ask(message.id, name, lookup, finished.prepared, sid, since)

    def _lease(self) -> timedelta:
        # A worker that died had called the provider within its lease before `unknown`.
        return timedelta(seconds=self.providers.settings.dispatch_lease_seconds)

    def _is_unavailable(self, provider: str) -> bool:
        since = self.unavailable.get(provider)
        return since is not None and time.monotonic() - since < UNAVAILABLE_FOR

    def _ask_all(self, asks: Sequence[Ask]) -> list[tuple[Ask, list[DeliveryEvent]]]:
        """Ask each provider, outside any transaction, within the round's time budget."""
        started, found = time.monotonic(), []
        for ask in asks:
            if time.monotonic() - started > self.budget:
                break
            if self._is_unavailable(ask.provider):
                continue
            events = self._ask(ask)
            if events:
                found.append((ask, events))
        return found

    def _ask(self, ask: Ask) -> list[DeliveryEvent]:
        try:
            events = ask.lookup.look_up(
                ask.prepared, provider_message_id=ask.provider_message_id, since=ask.since
            )
        except LookupUnavailable as exc:
            self.unavailable[ask.provider] = time.monotonic()
            log.warning(
                "%s cannot be asked about messages (%s); waiting for its reports", ask.provider, exc
            )
            return []
        except ChannelError as exc:  # a timeout, a 5xx: nothing changes, asked again next round
            log.info("lookup of message %s failed: %s", ask.message_id, type(exc).__name__)
            return []
        self.asked[ask.message_id] = time.monotonic()
        return events


def lookup_of(outlet: Any) -> Lookup | None:
    """The provider behind an outlet, when it can be asked about messages."""
    provider = getattr(getattr(outlet, "channel", outlet), "provider", None)
    return provider if isinstance(provider, Lookup) else None


def candidates(
    session: Session, limit: int, *, skip: Sequence[str] = ()
) -> list[tuple[Message, OutboxEntry]]:
    """`unknown` messages still in their reconciliation window, those ending soonest first,
    but for those in `skip` (asked about a moment ago)."""
    query = (
        select(Message, OutboxEntry)
        .join(OutboxEntry, OutboxEntry.message_id == Message.id)
        .where(
            Message.status == MessageStatus.UNKNOWN,
            OutboxEntry.done_at.is_(None),
            OutboxEntry.available_at > db_now(session),
            Message.id.not_in(skip),
        )
        .order_by(OutboxEntry.available_at, OutboxEntry.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def attempted_at(session: Session, message_id: str) -> datetime:
    """When the message became `unknown` (its latest such event)."""
    query = select(func.max(MessageEvent.at)).where(
        MessageEvent.message_id == message_id, MessageEvent.kind == "unknown"
    )
    found = session.scalar(query)
    if found is None:
        return db_now(session)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def settle(
    session: Session, ask: Ask, events: Sequence[DeliveryEvent], *, keys: archive.Keyring | None
) -> bool:
    """Resolve a still-`unknown` message by what its provider holds, as its report would:
    the first of `events` that is no other message's."""
    message = session.get(Message, ask.message_id, with_for_update=True)
    if message is None or message.status != MessageStatus.UNKNOWN:
        return False  # a report, a person or the policy settled it meanwhile
    event = next((e for e in events if not _taken(session, ask, e)), None)
    if event is None:
        return False
    reconcile(
        session,
        message,
        provider=ask.provider,
        provider_message_id=event.provider_message_id,
        evidence=EVIDENCE,
    )
    record_delivery_event(session, event, provider=ask.provider, keys=keys)
    record(
        session,
        actor=f"provider:{ask.provider}",
        action="message.reconcile",
        target_type="message",
        target=message.id,
        before={"status": MessageStatus.UNKNOWN.value},
        after={"status": message.status, "provider_status": event.data.get("status", "")},
        detail={"evidence": EVIDENCE, "provider_message_id": event.provider_message_id},
    )
    return True


def _taken(session: Session, ask: Ask, event: DeliveryEvent) -> bool:
    """Whether what was found is another message's (its provider id recorded for that one)."""
    if not event.provider_message_id:
        return False
    query = select(Message.id).where(
        Message.provider == ask.provider,
        Message.provider_message_id == event.provider_message_id,
        Message.id != ask.message_id,
    )
    return session.scalar(query.limit(1)) is not None
