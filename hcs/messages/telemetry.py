"""What dispatching tells operators: Prometheus counters and histograms, and one log line a send.

Log lines and labels carry ids, channels, providers and outcomes only: never a recipient, the
data, the rendered body or a provider's free-text reason (which may quote the address).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from channels.errors import ChannelError

log = logging.getLogger("hcs.delivery")

ACCEPTED = Counter(
    "hcs_messages_accepted",
    "Messages committed by the API, by channel and status",
    ["channel", "status"],
)
RENDER_SECONDS = Histogram("hcs_render_seconds", "Rendering and finishing one message", ["channel"])
SEND_SECONDS = Histogram(
    "hcs_send_seconds", "One call to a provider", ["channel", "provider", "outcome"]
)
SENDS = Counter(
    "hcs_sends",
    "Provider calls by channel, provider and outcome",
    ["channel", "provider", "outcome"],
)
RETRIES = Counter("hcs_send_retries", "Sends scheduled again after a transient error", ["channel"])
ARCHIVED = Counter("hcs_archive_writes", "Sent outputs written to the archive", ["channel"])


@contextmanager
def rendering(channel: str) -> Iterator[None]:
    """Time a render of one message."""
    with RENDER_SECONDS.labels(channel).time():
        yield


def sent(
    message_id: str,
    channel: str,
    provider: str,
    outcome: str,
    started: float,
    error: ChannelError | None = None,
) -> None:
    """Count one provider call and log it by id; `outcome` is sent, retry, unknown or failed."""
    seconds = time.perf_counter() - started
    SEND_SECONDS.labels(channel, provider, outcome).observe(seconds)
    SENDS.labels(channel, provider, outcome).inc()
    if outcome == "retry":
        RETRIES.labels(channel).inc()
    fields = {
        "message_id": message_id,
        "channel": channel,
        "provider": provider,
        "outcome": outcome,
        "duration_ms": round(seconds * 1000, 1),
    }
    if error is not None:  # the kind and HTTP status only: the reason text may quote the address
        fields.update(error=type(error).__name__, provider_status=error.status)
    log.info("send %s", outcome, extra=fields)


def note_accepted(session: Session, channel: str, status: str, count: int = 1) -> None:
    """Count `count` messages accepted in this session's transaction, once it commits."""
    counts = session.info.setdefault("hcs.accepted", {})
    counts[(channel, status)] = counts.get((channel, status), 0) + count


def _count_accepts(session: Session) -> None:
    for (channel, status), n in session.info.pop("hcs.accepted", {}).items():
        ACCEPTED.labels(channel, status).inc(n)


def _forget_accepts(session: Session, *_: object) -> None:
    session.info.pop("hcs.accepted", None)


def watch_accepts(sessions: sessionmaker[Session]) -> None:
    """Count messages by channel and status when the transaction that accepted them commits."""
    event.listen(sessions, "after_commit", _count_accepts)
    event.listen(sessions, "after_soft_rollback", _forget_accepts)
