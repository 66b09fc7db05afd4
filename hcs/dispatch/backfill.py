"""Archiving late: sent messages whose archive entry never got written (and suppressed ones).

`sent` commits before the archive entry (see `dispatch.process`), so a worker that dies in
between, or an archive write that fails, leaves a sent message without its evidence. Finishing
is deterministic, so finishing such a message again (with the AI texts its sign-off approved)
gives the bytes that were sent, and those are archived. A recipient erased since the send is
not archived again: erasure wins, and the message is marked so that it is not tried again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from hcs import archive
from hcs.dispatch.archiving import ERASED, archive_sent
from hcs.dispatch.finishing import finish
from hcs.dispatch.providers import Providers
from hcs.dispatch.suppressed import archive_suppressed
from hcs.messages.erasure import is_erased
from hcs.messages.models import Message, MessageEvent
from hcs.signoffs.gate import gate
from templates_store.orm import utcnow

log = logging.getLogger(__name__)
# Longer than the dispatcher takes between `sent` and its own archive write.
GRACE = timedelta(minutes=2)
# A message whose late archiving failed waits this long before the next try, so that a few
# that always fail cannot hold up the others.
RETRY_AFTER = timedelta(minutes=10)


def _has_event(kind: str, since: datetime | None = None) -> ColumnElement[bool]:
    found = exists().where(MessageEvent.message_id == Message.id, MessageEvent.kind == kind)
    return found.where(MessageEvent.at > since) if since is not None else found


def _missing(now: datetime, grace: timedelta) -> list[ColumnElement[Any]]:
    """What makes a message one to archive late: sent a while ago, no entry, not given up on."""
    return [
        Message.sent_at.is_not(None),
        Message.sent_at < now - grace,
        archive.ArchiveEntry.id.is_(None),
        ~_has_event("archive_skipped"),
        ~_has_event("archive_failed", since=now - RETRY_AFTER),
    ]


def _since(since: datetime | None) -> list[ColumnElement[bool]]:
    return [] if since is None else [Message.sent_at >= since]


def missed(
    session: Session,
    *,
    now: datetime,
    grace: timedelta,
    limit: int,
    since: datetime | None = None,
) -> list[str]:
    """The ids of sent messages without an archive entry, oldest send first (sent from `since`)."""
    query = (
        select(Message.id)
        .outerjoin(archive.ArchiveEntry, archive.ArchiveEntry.message_id == Message.id)
        .where(*_missing(now, grace), *_since(since))
        .order_by(Message.sent_at, Message.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def watermark(
    session: Session, *, now: datetime, grace: timedelta, since: datetime | None
) -> datetime:
    """Where the next look may start: the oldest send still without an entry (one waiting to be
    tried again included), else the end of the grace period; nothing before it needs looking at.
    """
    query = (
        select(func.min(Message.sent_at))
        .outerjoin(archive.ArchiveEntry, archive.ArchiveEntry.message_id == Message.id)
        .where(
            Message.sent_at.is_not(None),
            Message.sent_at < now - grace,
            archive.ArchiveEntry.id.is_(None),
            ~_has_event("archive_skipped"),
            *_since(since),
        )
    )
    oldest: datetime | None = session.scalar(query)
    return oldest if oldest is not None else now - grace


def _event(session: Session, message_id: str, kind: str, **detail: object) -> None:
    session.add(MessageEvent(message_id=message_id, kind=kind, detail=detail))


def archive_late(
    session: Session,
    message_id: str,
    providers: Providers,
    *,
    keys: archive.Keyring | None = None,
    now: datetime | None = None,
    grace: timedelta = GRACE,
) -> str:
    """Archive one sent message that has no entry: `archived`, `skipped` (erased) or `done`."""
    # Another worker may have archived or skipped it since it was found. One doing so right now
    # is not seen here: the archive's unique message id makes the second entry AlreadyArchived.
    still = select(Message).outerjoin(
        archive.ArchiveEntry, archive.ArchiveEntry.message_id == Message.id
    )
    still = still.where(Message.id == message_id, *_missing(now or utcnow(), grace))
    message = session.scalars(still.execution_options(populate_existing=True)).first()
    if message is None:
        return "done"
    return _archive(session, message, providers, keys or archive.default_keyring())


def _archive(
    session: Session, message: Message, providers: Providers, keys: archive.Keyring
) -> str:
    lookup = archive.recipient_lookup(session, keys, message.recipient_key)
    # Redacted by the erasure (`hcs.messages.erasure`): nothing personal is left to archive.
    erased = is_erased(message)
    if erased or (message.sent_at and archive.erased_since(session, lookup, message.sent_at)):
        _event(session, message.id, "archive_skipped", reason=ERASED)
        return "skipped"
    texts = gate(session, message)  # a sent message with AI slots has approved texts
    slot_text = texts if isinstance(texts, dict) else None
    as_sent = providers.as_sent(message.channel, message.provider)
    finished = finish(session, message, as_sent, slot_text=slot_text, sending=False)
    archive_sent(session, message, finished, keys)
    _event(session, message.id, "archived_late")
    return "archived"


def archive_missed(
    sessions: sessionmaker[Session],
    providers: Providers,
    *,
    keys: archive.Keyring | None = None,
    limit: int = 100,
    grace: timedelta = GRACE,
    now: datetime | None = None,
    since: datetime | None = None,
) -> int:
    """Archive up to `limit` sent messages missing their entry, each in its own transaction.

    `since` skips sends before it (a `watermark`); None looks at every send.

    :returns: how many entries this call wrote.
    """
    moment = now or utcnow()
    with sessions.begin() as session:
        ids = missed(session, now=moment, grace=grace, limit=limit, since=since)
    written = 0
    for message_id in ids:
        written += _one(sessions, message_id, providers, keys, moment, grace) == "archived"
    if written:
        log.info("archived late", extra={"count": written})
    return written


def _one(
    sessions: sessionmaker[Session],
    message_id: str,
    providers: Providers,
    keys: archive.Keyring | None,
    now: datetime,
    grace: timedelta,
) -> str:
    try:
        with sessions.begin() as session:
            return archive_late(session, message_id, providers, keys=keys, now=now, grace=grace)
    except archive.AlreadyArchived:  # another worker wrote it first: done
        return "done"
    except Exception as exc:  # recorded on the message and tried again after RETRY_AFTER
        # By kind only: the exception's text may quote the recipient or the data.
        log.exception(
            "late archiving failed", extra={"message_id": message_id, "error": type(exc).__name__}
        )
        with sessions.begin() as session:
            _event(session, message_id, "archive_failed", reason=type(exc).__name__, late=True)
        return "failed"


class LateArchiver:
    """Runs `archive_missed` at most once every `seconds`.

    The first run looks at every send; later ones start at the watermark the run before left
    (the oldest send still missing its entry, else the end of the grace period), so that in the
    usual case a run reads only the last minute's sends, through the index on `sent_at`.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        providers: Providers,
        keys: archive.Keyring | None = None,
        *,
        seconds: float = 60.0,
        grace: timedelta = GRACE,
    ) -> None:
        self.sessions, self.providers, self.keys = sessions, providers, keys
        self.seconds, self.grace = seconds, grace
        self._next = 0.0
        self.since: datetime | None = None
        self.suppressed_since: datetime | None = None

    def __call__(self) -> int:
        """Archive what was missed, when a run is due; how many entries were written."""
        if time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.seconds
        now = utcnow()
        written = archive_missed(
            self.sessions,
            self.providers,
            keys=self.keys,
            grace=self.grace,
            now=now,
            since=self.since,
        )
        with self.sessions() as session:
            self.since = watermark(session, now=now, grace=self.grace, since=self.since)
        # Suppressed messages were never sent, but their entries are evidence all the same.
        suppressed, self.suppressed_since = archive_suppressed(
            self.sessions, self.keys, since=self.suppressed_since
        )
        return written + suppressed
