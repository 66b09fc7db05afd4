"""Delivering status callbacks from their outbox (`webhook_deliveries`), with retries.

A round leases due deliveries, builds and signs each body in a short transaction, makes the
HTTP requests outside any transaction, then records every attempt. An answer other than 2xx
(or none) brings the delivery back after an exponential delay (the first `backoff_seconds`,
doubling, at most an hour, with a little jitter) until `horizon` after the event, when it fails
for good. Leases work as the message outbox's: one owner at a time, `QUEUED` while a Celery
task carries it, taken again once a lease ends (a worker died).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from hcs import archive
from hcs.callbacks import endpoints
from hcs.callbacks.endpoints import signing_secrets
from hcs.callbacks.events import TEST_EVENT, body
from hcs.callbacks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hcs.callbacks.signing import headers
from hcs.dispatch.callback_requests import Answer, new_client, post
from hcs.errors import ArchiveKeyError
from hcs.infrastructure.config import Settings
from hcs.messages.models import Message
from hcs.messages.status import MessageStatus
from templates_store.orm import utcnow

log = logging.getLogger(__name__)
QUEUED = endpoints.QUEUED  # the lease owner of deliveries waiting in the broker
ROUND = 20
MAX_DELAY = 3600.0
KEPT = timedelta(days=30)  # finished deliveries and their attempts, then forgotten
D = WebhookDelivery


@dataclass(frozen=True)
class CallbackOptions:
    """How callbacks are delivered: from the settings (`HCS_WEBHOOK_*`)."""

    allow: tuple[str, ...] = ()
    timeout: float = 5.0
    backoff_seconds: float = 15.0
    horizon: timedelta = timedelta(hours=24)

    @classmethod
    def of(cls, settings: Settings) -> CallbackOptions:
        """The options `settings` name."""
        return cls(
            settings.webhook_allowed_hosts,
            settings.webhook_timeout,
            settings.webhook_backoff_seconds,
            settings.webhook_retry_horizon,
        )

    @property
    def lease(self) -> timedelta:
        """Long enough for a whole round of requests that all time out."""
        return timedelta(seconds=self.timeout * ROUND + 60)


@dataclass(frozen=True)
class Job:
    """One request to make: where, what, and signed how."""

    delivery_id: int
    endpoint_id: str
    url: str
    body: bytes
    headers: dict[str, str]


def _due(moment: datetime) -> ColumnElement[bool]:
    free = or_(D.leased_until.is_(None), D.leased_until < moment)
    return D.done_at.is_(None) & (D.available_at <= moment) & free


def _enabled() -> Any:
    return select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))


def hand_to_queue(session: Session, *, lease: timedelta, limit: int = 500) -> list[int]:
    """Mark due deliveries nobody holds as queued (for Celery tasks); their ids."""
    moment = utcnow()
    ids = list(
        session.scalars(
            select(D.id)
            .where(_due(moment), D.endpoint_id.in_(_enabled()))
            .order_by(D.available_at)
            .limit(limit)
        )
    )
    if not ids:
        return []
    taken = session.scalars(
        update(D)
        .where(D.id.in_(ids), _due(moment))
        .values(leased_until=moment + lease, lease_owner=QUEUED)
        .returning(D.id)
    )
    return sorted(taken)


def take(
    session: Session, *, owner: str, lease: timedelta, ids: Sequence[int] | None = None
) -> list[int]:
    """Lease due deliveries to `owner` (these `ids`, when given, also if only queued)."""
    moment = utcnow()
    if ids is None:
        query = select(D.id).where(_due(moment), D.endpoint_id.in_(_enabled()))
        ids = list(session.scalars(query.order_by(D.available_at).limit(ROUND)))
    if not ids:
        return []
    open_ = D.done_at.is_(None) & (D.available_at <= moment)
    free = or_(D.leased_until.is_(None), D.leased_until < moment, D.lease_owner == QUEUED)
    taken = session.scalars(
        update(D)
        .where(D.id.in_(ids), open_, free, D.endpoint_id.in_(_enabled()))
        .values(leased_until=moment + lease, lease_owner=owner)
        .returning(D.id)
    )
    return sorted(taken)


def _data(session: Session, delivery: WebhookDelivery) -> dict[str, Any]:
    if delivery.event == TEST_EVENT or delivery.message_id is None:
        return {"endpoint_id": delivery.endpoint_id, "test": True}
    message = session.get(Message, delivery.message_id)
    if message is None:  # messages are never deleted; should one be, its id still goes out
        return {"id": delivery.message_id, "event": delivery.event}
    data: dict[str, Any] = {
        "id": message.id,
        "event": delivery.event,
        "template": message.template_key,
        "version": message.version_number,
        "channel": message.channel,
        "reference": message.reference,
        "metadata": message.caller_metadata,
        "batch_id": message.batch_id,
        "test": message.is_test,
    }
    if delivery.event in {status.value for status in MessageStatus}:
        data["status"] = delivery.event
    return data


def webhook_id(delivery_id: int) -> str:
    """The `webhook-id` of a delivery: the same on every attempt, so receivers can deduplicate."""
    return f"whd_{delivery_id}"


def _job(session: Session, keys: archive.Keyring, delivery_id: int) -> Job:
    delivery = session.get(D, delivery_id)
    assert delivery is not None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    now = utcnow()
    content = body(delivery.event, delivery.occurred_at, _data(session, delivery))
    signed = headers(webhook_id(delivery.id), now, content, signing_secrets(keys, endpoint, now))
    return Job(delivery.id, endpoint.id, endpoint.url, content, signed)


def _delay(attempts: int, base: float) -> float:
    delay: float = min(base * 2.0 ** (attempts - 1), MAX_DELAY)
    return delay * random.uniform(0.9, 1.1)  # spread retries of one outage apart


def record(
    session: Session, delivery_id: int, answer: Answer, options: CallbackOptions
) -> WebhookAttempt | None:
    """Record one attempt and decide: delivered, tried again later, or failed for good."""
    delivery = session.get(D, delivery_id, with_for_update=True)
    if delivery is None:  # its endpoint was removed meanwhile
        return None
    now = utcnow()
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        at=now,
        status_code=answer.status_code,
        succeeded=answer.succeeded,
        error=answer.error,
        duration_ms=answer.duration_ms,
    )
    session.add(attempt)
    delivery.attempts += 1
    delivery.leased_until, delivery.lease_owner = None, None
    delivery.last_error = answer.error or (
        f"HTTP {answer.status_code}" if answer.status_code else ""
    )
    later = now + timedelta(seconds=_delay(delivery.attempts, options.backoff_seconds))
    if answer.succeeded:
        delivery.state, delivery.done_at, delivery.last_error = "delivered", now, ""
    elif later > delivery.occurred_at + options.horizon:
        delivery.state, delivery.done_at = "failed", now
    else:
        delivery.available_at = later
    session.flush()
    return attempt


def forget_finished(session: Session, *, kept: timedelta = KEPT) -> int:
    """Delete deliveries finished more than `kept` ago, with their attempts; how many."""
    old = select(D.id).where(D.done_at < utcnow() - kept)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
    result = session.execute(
        delete(D).where(D.id.in_(old)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def deliver_due(
    sessions: sessionmaker[Session],
    keys: archive.Keyring,
    options: CallbackOptions,
    *,
    owner: str,
    ids: Sequence[int] | None = None,
) -> int:
    """One round: lease what is due (or these `ids`), deliver, record; how many were tried."""
    jobs: list[Job | tuple[int, Answer]] = []
    with sessions.begin() as session:
        for delivery_id in take(session, owner=owner, lease=options.lease, ids=ids):
            try:
                jobs.append(_job(session, keys, delivery_id))
            except ArchiveKeyError:  # never the secret itself in a log or an attempt
                jobs.append((delivery_id, Answer(None, "the endpoint's secret is unreadable", 0)))
    answers: list[tuple[int, Answer]] = []
    with new_client(options.timeout) as client:
        for job in jobs:
            if isinstance(job, Job):
                answer = post(client, job.url, job.body, job.headers, allow=options.allow)
                answers.append((job.delivery_id, answer))
            else:
                answers.append(job)
    with sessions.begin() as session:
        for delivery_id, answer in answers:
            record(session, delivery_id, answer, options)
    return len(answers)
