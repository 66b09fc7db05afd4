"""One dispatch round as if time had passed, and a message's event kinds: for unknown-send tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import archive
from hcs.dispatch import rounds
from hcs.dispatch.archiving import archive_round
from hcs.dispatch.finishing import Finished
from hcs.dispatch.providers import Providers
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message, MessageEvent
from templates_store.orm import utcnow
from tests.support.world import World


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
