"""Worker lanes: one queue per channel, so a slow channel never holds up another.

`hcs worker --queues email,sms,chat,letter` names the lanes a worker serves (all by default),
by the channel registry's names; `ai` is the AI text generation queue. With Celery each lane is
a queue of its own (`<HCS_CELERY_QUEUE>.<channel>`), and a task carries entries of one channel
only; the in-process worker runs `--concurrency` dispatch threads per lane, each claiming only
its lane's entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.channels.registry import CHANNELS
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message, OutboxEntry

LANES: tuple[str, ...] = tuple(CHANNELS)
# The AI text generation queue (`HCS_CELERY_AI_QUEUE`): a lane a worker may be given alone.
AI_LANE = "ai"
NAMES = (*LANES, AI_LANE)


def parse_lanes(text: str | None) -> tuple[str, ...]:
    """`email,sms` as lanes, in the registry's order (then `ai`); every lane when empty.

    Raises ValueError naming a channel the registry does not know.
    """
    asked = [part.strip() for part in (text or "").split(",") if part.strip()]
    unknown = sorted(set(asked) - set(NAMES))
    if unknown:
        raise ValueError(
            f"--queues: no channel {', '.join(unknown)}; choose from {','.join(NAMES)}"
        )
    return tuple(lane for lane in NAMES if lane in asked) or NAMES


def channel_lanes(lanes: Sequence[str]) -> tuple[str, ...]:
    """The channels among lanes; every channel when none is named (`ai` alone)."""
    return tuple(lane for lane in lanes if lane in LANES) or LANES


def queue_for(settings: Settings, lane: str) -> str:
    """The Celery queue of one lane."""
    return f"{settings.celery_queue}.{lane}"


def queues_for(settings: Settings, lanes: Sequence[str]) -> list[str]:
    """The Celery queues a worker of these lanes consumes.

    `ai` is the AI generation queue (a worker of its own may take only it). Any channel lane
    brings the lane-less queue of earlier releases too, so tasks queued before an upgrade run.
    """
    queues = [queue_for(settings, lane) for lane in lanes if lane in LANES]
    if queues:
        queues.append(settings.celery_queue)
    if AI_LANE in lanes:
        queues.append(settings.celery_ai_queue)
    return queues


def by_lane(session: Session, entry_ids: Sequence[int]) -> dict[str, list[int]]:
    """These outbox entries grouped by their message's channel, each group in the given order."""
    if not entry_ids:
        return {}
    query = (
        select(OutboxEntry.id, Message.channel)
        .join(Message, Message.id == OutboxEntry.message_id)
        .where(OutboxEntry.id.in_(list(entry_ids)))
    )
    channel_of = {entry_id: channel for entry_id, channel in session.execute(query)}
    lanes: dict[str, list[int]] = defaultdict(list)
    for entry_id in entry_ids:
        if entry_id in channel_of:
            lanes[channel_of[entry_id]].append(entry_id)
    return dict(lanes)
