"""Where dispatch meets sign-off: a message with AI slots waits for a person before any send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hcs.ai.personal_data import approved_texts
from hcs.ai.providers import AIProvider
from hcs.governance.policies import policy_for
from hcs.messages.models import Message, OutboxEntry
from hcs.messages.status import Move
from hcs.signoffs.generation import generate_all
from hcs.signoffs.models import APPROVED, SignoffItem
from hcs.signoffs.queue import DEFAULT_TTL, open_item
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow


@dataclass(frozen=True)
class NeedsText:
    """A message whose AI slots must be generated (outside any transaction) and signed off."""

    message_id: str
    slots: list[dict[str, Any]]
    data: dict[str, Any]
    category: str
    locale: str
    guardrails: dict[str, Any]


def item_of(session: Session, message_id: str) -> SignoffItem | None:
    """The sign-off item of a message, if any."""
    return session.scalar(select(SignoffItem).where(SignoffItem.message_id == message_id))


def gate(session: Session, message: Message) -> dict[str, str] | NeedsText | str | None:
    """None: no AI here. Texts: signed off. NeedsText: generate. A string: still waiting."""
    version = session.get_one(TemplateVersion, message.version_id)
    if not version.ai_slots:
        return None
    item = item_of(session, message.id)
    if item is None:
        return NeedsText(
            message.id,
            version.ai_slots,
            dict(message.data),
            message.category,
            message.locale or version.template.default_locale,
            {
                **policy_for(session, message.category).guardrail_options(),
                "approved": approved_texts(version.parts),
            },
        )
    if item.status == APPROVED:
        return {name: slot["text"] for name, slot in item.slots.items()}
    return f"waiting for sign-off ({item.status})"


def request_signoff(
    sessions: sessionmaker[Session],
    entry_id: int,
    needs: NeedsText,
    provider: AIProvider,
    *,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """Generate the slot texts (the model call holds no transaction), then queue the message."""
    slots = generate_all(
        needs.slots,
        needs.data,
        provider,
        category=needs.category,
        locale=needs.locale,
        guardrails=needs.guardrails,
    )
    with sessions.begin() as session:
        message = session.get_one(Message, needs.message_id)
        entry = session.get_one(OutboxEntry, entry_id)
        waits = message.status in Move.AWAIT_SIGNOFF.value.sources
        if waits and item_of(session, message.id) is None:
            open_item(session, message, slots, ttl=ttl)
        entry.done_at, entry.leased_until = utcnow(), None
        return message.status


def signed_off_texts(session: Session, message: Message) -> dict[str, str] | None:
    """The slot texts a person approved for this message (None when it carries no AI text)."""
    item = item_of(session, message.id)
    if item is None or item.status != APPROVED:
        return None
    return {name: slot["text"] for name, slot in item.slots.items()}
