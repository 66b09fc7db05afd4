"""Suppressed messages are evidence too: each is archived with its reason, nothing having been sent.

A message is suppressed when it is accepted (an opt-out, a hard bounce, a complaint), when a
worker takes it (consent withdrawn since), or when the provider answers that the recipient
unsubscribed at the carrier (Twilio 21610). The late archiver (`hcs.dispatch.backfill`) writes
their entries about once a minute: the entry's output is a small JSON record
(`application/vnd.hcs.suppressed+json`: status, reason, template and version), its data and
recipient encrypted like any other entry's, its `sent_at` the moment of the suppression.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from hcs import archive
from hcs.messages.erasure import is_erased
from hcs.messages.models import Message, MessageEvent
from hcs.messages.status import MessageStatus
from templates_store.models import TemplateVersion
from templates_store.orm import utcnow

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/vnd.hcs.suppressed+json"
ERASED = "recipient erased"


def record_of(message: Message) -> bytes:
    """The bytes an entry of a suppressed message holds as its output."""
    record = {
        "status": MessageStatus.SUPPRESSED.value,
        "reason": message.reason,
        "template": message.template_key,
        "version": message.version_number,
        "channel": message.channel,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def _unarchived(since: datetime | None) -> list[ColumnElement[bool]]:
    skipped = exists().where(
        MessageEvent.message_id == Message.id, MessageEvent.kind == "archive_skipped"
    )
    found = [
        Message.status == MessageStatus.SUPPRESSED.value,
        archive.ArchiveEntry.id.is_(None),
        ~skipped,
    ]
    return found if since is None else [*found, Message.created_at >= since]


def pending(session: Session, *, since: datetime | None, limit: int) -> list[Message]:
    """Suppressed messages without an entry (created from `since`), oldest first."""
    query = (
        select(Message)
        .outerjoin(archive.ArchiveEntry, archive.ArchiveEntry.message_id == Message.id)
        .where(*_unarchived(since))
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _output(session: Session, message: Message) -> archive.Output:
    version = session.get_one(TemplateVersion, message.version_id)
    return archive.Output(
        message_id=message.id,
        template=message.template_key,
        version=message.version_number,
        closure_hash=version.closure_hash or "",
        channel=message.channel,
        locale=message.locale or "",
        category=message.category,
        recipient_key=message.recipient_key,
        recipient=message.to,
        data=message.data,
        output=record_of(message),
        content_type=CONTENT_TYPE,
        provider="",
        provider_message_id=None,
        sent_at=message.updated_at or message.created_at,
    )


def archive_one(session: Session, message: Message, keys: archive.Keyring) -> str:
    """Archive one suppressed message: `archived`, or `skipped` when its recipient was erased."""
    lookup = archive.recipient_lookup(session, keys, message.recipient_key)
    # Redacted by an erasure (`hcs.messages.erasure`), or erased since: nothing left to archive.
    if is_erased(message) or archive.erased_since(session, lookup, message.created_at):
        session.add(MessageEvent(message_id=message.id, kind="archive_skipped", detail={}))
        return "skipped"
    archive.record_outputs(session, [_output(session, message)], keys)
    return "archived"


def archive_suppressed(
    sessions: sessionmaker[Session],
    keys: archive.Keyring | None,
    *,
    since: datetime | None = None,
    limit: int = 100,
) -> tuple[int, datetime | None]:
    """Archive up to `limit` suppressed messages missing their entry, each in a transaction.

    :returns: how many were archived, and where the next look may start.
    """
    keys = keys or archive.default_keyring()
    with sessions.begin() as session:
        ids = [message.id for message in pending(session, since=since, limit=limit)]
    written = 0
    for message_id in ids:
        try:
            with sessions.begin() as session:
                message = session.get_one(Message, message_id)
                written += archive_one(session, message, keys) == "archived"
        except archive.AlreadyArchived:
            continue
        except Exception as exc:  # by kind only: the text may quote the recipient
            log.exception(
                "archiving a suppressed message failed", extra={"error": type(exc).__name__}
            )
    return written, _next_since(sessions, since)


def _next_since(sessions: sessionmaker[Session], since: datetime | None) -> datetime:
    """The oldest suppressed message still without an entry, else a minute ago."""
    with sessions() as session:
        oldest = session.scalar(
            select(func.min(Message.created_at))
            .outerjoin(archive.ArchiveEntry, archive.ArchiveEntry.message_id == Message.id)
            .where(*_unarchived(since))
        )
    return oldest if oldest is not None else utcnow() - timedelta(minutes=1)
