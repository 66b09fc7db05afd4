"""How each channel's provider is doing: what is configured and what its messages became."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs.channels.registry import CHANNELS
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message


@dataclass(frozen=True)
class ChannelStatus:
    """One channel: its provider, its fallback, and its messages' statuses since a moment."""

    channel: str
    provider: str
    fallback: str
    outcomes: dict[str, int] = field(default_factory=dict)


def channel_status(session: Session, settings: Settings, since: datetime) -> list[ChannelStatus]:
    """Each channel's configured providers (never their credentials) and recent outcomes."""
    counted = session.execute(
        select(Message.channel, Message.status, func.count())
        .where(Message.updated_at >= since)
        .group_by(Message.channel, Message.status)
    )
    outcomes: dict[str, dict[str, int]] = {}
    for channel, status, count in counted:
        outcomes.setdefault(channel, {})[status] = count
    statuses = []
    for name, entry in CHANNELS.items():
        options = entry.options(settings)
        found = outcomes.get(name, {})
        statuses.append(ChannelStatus(name, options.provider, options.fallback, found))
    return statuses
