"""Registering, changing, rotating and removing callback endpoints; each change audited.

An endpoint belongs to the principal that registered it (`owner`): it hears of that principal's
messages only, and nobody else sees or changes it (another owner's id answers 404, as a missing
one does). Its URL is checked as a destination (`hcs.infrastructure.destinations`) when it is
set and again before every delivery. The secret is returned once, at registration and rotation.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hcs.archive.crypto import Keyring
from hcs.audit import record
from hcs.callbacks import secrets
from hcs.callbacks.events import EVENTS, TEST_EVENT, chosen, stored
from hcs.callbacks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hcs.infrastructure.destinations import check_destination
from templates_store.errors import Conflict, NotFound, ValidationFailed
from templates_store.orm import utcnow

MAX_ENDPOINTS = 20  # per owner
QUEUED = "queue"  # a lease owner no worker round takes from (hcs.dispatch.callbacks.QUEUED)


@dataclass(frozen=True)
class Registered:
    """An endpoint and its secret in clear: shown to the caller this once."""

    endpoint: WebhookEndpoint
    secret: str


def _checked_events(events: Sequence[str]) -> str:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValidationFailed({"events": [f"choose one or more of {', '.join(EVENTS)}"]})
    return stored(list(events))


def _audit(session: Session, actor: str, action: str, endpoint: WebhookEndpoint) -> None:
    after = {"url": endpoint.url, "events": chosen(endpoint.events), "enabled": endpoint.enabled}
    record(
        session,
        actor=actor,
        action=action,
        target_type="webhook_endpoint",
        target=endpoint.id,
        after=after,
    )


def register(
    session: Session,
    *,
    owner: str,
    url: str,
    events: Sequence[str],
    description: str = "",
    keys: Keyring,
    allow: Collection[str] = (),
) -> Registered:
    """A new endpoint of `owner` for `events`, with a fresh secret."""
    stored_events = _checked_events(events)
    check_destination(url, allow=allow)
    if len(list_endpoints(session, owner=owner)) >= MAX_ENDPOINTS:
        raise ValidationFailed({"url": [f"at most {MAX_ENDPOINTS} endpoints per caller"]})
    endpoint_id, secret = "whe_" + uuid.uuid4().hex, secrets.new_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        owner=owner,
        url=url,
        description=description,
        events=stored_events,
        enabled=True,
        secret=secrets.seal(keys, endpoint_id, secret),
        secret_master_id=keys.master_id,
        created_by=owner,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, owner, "webhook.create", endpoint)
    return Registered(endpoint, secret)


def list_endpoints(session: Session, *, owner: str) -> list[WebhookEndpoint]:
    """`owner`'s endpoints, oldest first."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.owner == owner)
    return list(session.scalars(query.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: str, *, owner: str) -> WebhookEndpoint:
    """One of `owner`'s endpoints; NotFound for anyone else's."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.owner != owner:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    return endpoint


def update(
    session: Session,
    endpoint_id: str,
    *,
    owner: str,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    allow: Collection[str] = (),
) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or whether it is enabled."""
    endpoint = get_endpoint(session, endpoint_id, owner=owner)
    if events is not None:
        endpoint.events = _checked_events(events)
    if url is not None:
        check_destination(url, allow=allow)
        endpoint.url = url
    if description is not None:
        endpoint.description = description
    if enabled is not None:
        endpoint.enabled = enabled
    session.flush()
    _audit(session, owner, "webhook.update", endpoint)
    return endpoint


def rotate(
    session: Session, endpoint_id: str, *, owner: str, keys: Keyring, grace: timedelta
) -> Registered:
    """A new secret; the current one keeps signing beside it for `grace` (0: stops now)."""
    endpoint = get_endpoint(session, endpoint_id, owner=owner)
    current = secrets.unseal(keys, endpoint.id, endpoint.secret, endpoint.secret_master_id)
    secret = secrets.new_secret()
    if grace > timedelta(0):
        endpoint.previous_secret = secrets.seal(keys, endpoint.id, current)
        endpoint.previous_until = utcnow() + grace
    else:
        endpoint.previous_secret, endpoint.previous_until = None, None
    endpoint.secret, endpoint.secret_master_id = (
        secrets.seal(keys, endpoint.id, secret),
        keys.master_id,
    )
    session.flush()
    _audit(session, owner, "webhook.rotate", endpoint)
    return Registered(endpoint, secret)


def remove(session: Session, endpoint_id: str, *, owner: str) -> None:
    """Delete an endpoint with its pending deliveries and its attempts."""
    endpoint = get_endpoint(session, endpoint_id, owner=owner)
    _audit(session, owner, "webhook.delete", endpoint)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def signing_secrets(keys: Keyring, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous in its grace."""
    found = [secrets.unseal(keys, endpoint.id, endpoint.secret, endpoint.secret_master_id)]
    until = endpoint.previous_until
    if endpoint.previous_secret is not None and until is not None:
        if until.replace(tzinfo=None) > now.replace(tzinfo=None):
            # Sealed in the rotation, under the master key of that moment.
            found.append(
                secrets.unseal(
                    keys, endpoint.id, endpoint.previous_secret, endpoint.secret_master_id
                )
            )
    return found


def attempts(
    session: Session,
    endpoint_id: str,
    *,
    owner: str,
    limit: int = 100,
    delivery_id: int | None = None,
) -> list[tuple[WebhookAttempt, WebhookDelivery]]:
    """An endpoint's latest delivery attempts (of one delivery), newest first, with it."""
    get_endpoint(session, endpoint_id, owner=owner)
    query = (
        select(WebhookAttempt, WebhookDelivery)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookAttempt.endpoint_id == endpoint_id)
        .order_by(WebhookAttempt.id.desc())
        .limit(limit)
    )
    if delivery_id is not None:
        query = query.where(WebhookAttempt.delivery_id == delivery_id)
    return [(row[0], row[1]) for row in session.execute(query)]


def queue_test(
    session: Session, endpoint_id: str, *, owner: str, held_for: timedelta
) -> WebhookDelivery:
    """A `webhook.test` event owed to one endpoint, held `held_for` for the caller to deliver.

    Held as if queued, so no worker takes it first (after that, it is retried like any other).
    """
    endpoint = get_endpoint(session, endpoint_id, owner=owner)
    if not endpoint.enabled:
        raise Conflict(f"webhook endpoint {endpoint_id!r} is paused; enable it first")
    now = utcnow()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event=TEST_EVENT,
        message_id=None,
        occurred_at=now,
        available_at=now,
        leased_until=now + held_for,
        lease_owner=QUEUED,
    )
    session.add(delivery)
    session.flush()
    return delivery
