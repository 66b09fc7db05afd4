"""One dispatch round as if time had passed, a network that loses answers, a message's event
kinds: for unknown-send tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.core import SendResult
from channels.errors import TransientChannelError
from hcs import archive
from hcs.dispatch import rounds
from hcs.dispatch.archiving import archive_round
from hcs.dispatch.finishing import Finished
from hcs.dispatch.providers import Providers, build_providers
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message, MessageEvent
from templates_store.orm import utcnow
from tests.support.world import World


class Flaky:
    """The real outlet behind a network that drops the first `drops` answers after sending."""

    batch_size = 1  # one message a call, as SMTP and Twilio send

    def __init__(self, real: Any, drops: int) -> None:
        self.real, self.drops, self.copies = real, drops, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send(self, prepared: Any) -> SendResult:
        result = self.real.send(prepared)
        self.copies += 1
        if self.drops:
            self.drops -= 1
            raise TransientChannelError("read timed out", reason="read timed out")
        return result


def flaky(
    world: World, drops: int, outlet_type: Callable[[Any, int], Flaky] = Flaky
) -> tuple[Providers, Flaky]:
    """The world's providers with its email outlet behind `outlet_type(outlet, drops)`."""
    providers = build_providers(world.app.extensions["hcs"].settings)
    outlet = outlet_type(providers.outlet("email"), drops)
    return replace(providers, outlets={**providers.outlets, "email": outlet}), outlet


def dispatch_round(world: World, providers: Providers, minutes_later: float) -> list[str]:
    """One round, as if `minutes_later` minutes had passed; the statuses it left."""
    sessions = world.app.extensions["hcs"].sessions
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with sessions.begin() as session:
        ids = rounds.claim(session, owner="w", now=utcnow() + timedelta(minutes=minutes_later))

    def on_sent(session: Session, sent: Sequence[tuple[Message, Finished]]) -> None:
        archive_round(session, sent, keys)

    return [str(rounds.process(sessions, i, providers, on_sent).status) for i in ids]


def kinds(world: World, message_id: str) -> list[str]:
    """The kinds of a message's events, oldest first."""
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        return list(session.scalars(query.order_by(MessageEvent.id)))
