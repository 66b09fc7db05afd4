"""Accepting sends: resolve the version, validate the data, check consent, write the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hcs.delivery.consent import suppression_reason
from hcs.delivery.models import Message, MessageEvent, OutboxEntry
from hcs.delivery.recipients import recipient_key
from templates_store.errors import Conflict, ValidationFailed
from templates_store.locales import normalize_locale
from templates_store.lookup import get_template, get_version, published_version
from templates_store.models import TemplateVersion
from templates_store.status import SENDABLE
from templates_store.variables import load_payload

MAX_BATCH = 1000


@dataclass(frozen=True)
class SendRequest:
    """One message as a backend asked for it."""

    to: Mapping[str, Any]
    data: Mapping[str, Any]
    locale: str | None = None


def new_message_id() -> str:
    """A fresh, unguessable message id."""
    return "msg_" + uuid.uuid4().hex


def resolve_version(session: Session, key: str, number: int | None) -> TemplateVersion:
    """The published version, or the pinned approved one; drafts and retired ones never send."""
    template = get_template(session, key)
    if template.retired_at is not None:
        raise Conflict(f"template {key!r} is retired")
    if number is None:
        version = published_version(template)
        if version is None:
            raise Conflict(f"template {key!r} has no published version")
        return _not_suspended(version)
    version = get_version(session, key, number)
    if version.status not in SENDABLE:
        raise Conflict(f"version {number} of {key!r} is {version.status.value}; it cannot send")
    return _not_suspended(version)


def _not_suspended(version: TemplateVersion) -> TemplateVersion:
    if version.suspended_at is not None:
        raise Conflict(f"version {version.number} of {version.template.key!r} is suspended")
    return version


def _prefixed(prefix: str, exc: ValidationFailed) -> ValidationFailed:
    return ValidationFailed({f"{prefix}{field}": msgs for field, msgs in exc.errors.items()})


def _message(
    session: Session,
    version: TemplateVersion,
    channel: str,
    request: SendRequest,
    *,
    requested_by: str,
    batch_id: str | None,
) -> Message:
    key = recipient_key(channel, request.to)
    load_payload(version.variables, request.data)
    locale = normalize_locale(request.locale) if request.locale else None
    category = version.template.category
    message = Message(
        id=new_message_id(),
        template_key=version.template.key,
        version_id=version.id,
        version_number=version.number,
        channel=channel,
        category=category,
        locale=locale,
        recipient_key=key,
        to=dict(request.to),
        data=dict(request.data),
        requested_by=requested_by,
        batch_id=batch_id,
        status="accepted",
        reason="",
    )
    reason = suppression_reason(session, key, channel, category)
    if reason:
        message.status, message.reason = "suppressed", reason
    session.add(message)
    session.add(MessageEvent(message=message, kind=message.status, detail={"reason": reason or ""}))
    if not reason:
        session.add(OutboxEntry(message_id=message.id))
    return message


def _check_channel(version: TemplateVersion, channel: str) -> None:
    if channel not in version.template.channels or channel not in version.parts:
        served = ", ".join(version.template.channels)
        raise ValidationFailed({"channel": [f"{version.template.key!r} sends on {served}"]})


def accept(
    session: Session,
    key: str,
    channel: str,
    request: SendRequest,
    *,
    version: int | None = None,
    requested_by: str,
) -> Message:
    """Accept one message: it and its outbox entry join the caller's transaction."""
    chosen = resolve_version(session, key, version)
    _check_channel(chosen, channel)
    message = _message(session, chosen, channel, request, requested_by=requested_by, batch_id=None)
    session.flush()
    return message


def accept_batch(
    session: Session,
    key: str,
    channel: str,
    requests: Sequence[SendRequest],
    *,
    version: int | None = None,
    requested_by: str,
) -> list[Message]:
    """Accept up to 1,000 messages of one template, all or none; errors name the message."""
    if not 1 <= len(requests) <= MAX_BATCH:
        raise ValidationFailed({"messages": [f"send between 1 and {MAX_BATCH} messages"]})
    chosen = resolve_version(session, key, version)
    _check_channel(chosen, channel)
    batch_id = "bat_" + uuid.uuid4().hex
    messages, errors = [], {}
    for index, request in enumerate(requests):
        try:
            messages.append(
                _message(
                    session, chosen, channel, request, requested_by=requested_by, batch_id=batch_id
                )
            )
        except ValidationFailed as exc:
            errors.update(_prefixed(f"messages.{index}.", exc).errors)
    if errors:
        raise ValidationFailed(errors)
    session.flush()
    return messages
