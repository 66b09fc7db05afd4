"""Writing the archive: one entry per sent output, its delivery events, and erasure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from hcs import audit
from hcs.archive import crypto
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.errors import AlreadyArchived, EntryNotFound, OnLegalHold
from hcs.archive.holds import held_entries
from hcs.archive.keys import entry_aad, live_subject_keys, open_entry_key, subject_key
from hcs.archive.lookups import recipient_lookup
from hcs.archive.models import ArchiveEntry, ArchiveEvent, ArchivePayload, SubjectKey
from hcs.sealing import digest, jsonable
from templates_store.orm import utcnow


def data_digest(data: Mapping[str, Any]) -> str:
    """`sha256:` + SHA-256 of the data's canonical JSON (sorted keys, no spaces, UTF-8)."""
    return "sha256:" + digest(jsonable(dict(data)))


def _payload(
    subject: bytes,
    message_id: str,
    recipient: dict[str, Any],
    data: Mapping[str, Any],
    output: bytes,
    ai: Mapping[str, Any] | None,
) -> dict[str, bytes | None]:
    key = crypto.new_key()

    def sealed(part: str, value: Any) -> bytes:
        return crypto.encrypt_json(key, value, entry_aad(message_id, part))

    return {
        "wrapped_key": crypto.encrypt(subject, key, entry_aad(message_id, "key")),
        "output": crypto.encrypt(key, output, entry_aad(message_id, "output")),
        "recipient": sealed("recipient", recipient),
        "data": sealed("data", jsonable(dict(data))),
        "ai": None if ai is None else sealed("ai", jsonable(dict(ai))),
    }


def archive_output(
    session: Session,
    *,
    message_id: str,
    template: str,
    version: int,
    closure_hash: str,
    channel: str,
    locale: str,
    category: str,
    recipient_key: str,
    recipient: Mapping[str, Any],
    data: Mapping[str, Any],
    output: bytes,
    content_type: str,
    provider: str,
    provider_message_id: str | None,
    ai: Mapping[str, Any] | None = None,
    sent_at: datetime,
    keys: Keyring | None = None,
) -> ArchiveEntry:
    """Archive one sent output in the caller's transaction; personal data is encrypted."""
    keys = keys or default_keyring()
    lookup = recipient_lookup(session, keys, recipient_key)
    subject_id, plain = subject_key(session, keys, lookup)
    who = {"key": recipient_key, "to": jsonable(dict(recipient))}
    payload = _payload(plain, message_id, who, data, output, ai)
    values: dict[str, Any] = {
        "message_id": message_id,
        "template": template,
        "version": version,
        "closure_hash": closure_hash,
        "channel": channel,
        "locale": locale,
        "category": category,
        "recipient_lookup": lookup,
        "subject_key_id": subject_id,
        "data_digest": data_digest(data),
        "payload_digest": crypto.digest_bytes(payload),
        "content_type": content_type,
        "output_size": len(output),
        "provider": provider,
        "provider_message_id": provider_message_id,
        "has_ai": ai is not None,
        "sent_at": sent_at,
        "archived_at": utcnow(),
    }
    return _insert(session, values, payload)


_ENTRIES = cast(Table, ArchiveEntry.__table__)
_NEW_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)
_NEW_PAYLOAD = insert(cast(Table, ArchivePayload.__table__))


def _insert(
    session: Session, values: dict[str, Any], payload: dict[str, bytes | None]
) -> ArchiveEntry:
    # Core INSERTs, not the unit of work: this runs once per message sent, inside the
    # dispatcher's transaction, and ORM flushes cost several times the SQL. The entry is hashed
    # exactly as the sealing guard hashes an ORM insert.
    values |= {"seq": None, "seal_id": None, "entry_hash": ArchiveEntry.hash_values(values)}
    try:
        entry_id = session.execute(_NEW_ENTRY, values).scalar_one()
    except IntegrityError as exc:
        if "message_id" in str(exc.orig):
            raise AlreadyArchived(f"message {values['message_id']} is archived already") from exc
        raise
    session.execute(_NEW_PAYLOAD, {"entry_id": entry_id, **payload})
    entry = ArchiveEntry(id=entry_id, **values)
    make_transient_to_detached(entry)
    session.add(entry)  # persistent as inserted, with no further SQL
    return entry


def entry_for_message(session: Session, message_id: str) -> ArchiveEntry:
    """The entry of one message; EntryNotFound when it has none."""
    entry = session.scalars(
        select(ArchiveEntry).where(ArchiveEntry.message_id == message_id)
    ).first()
    if entry is None:
        raise EntryNotFound(f"message {message_id} has no archive entry")
    return entry


def entry_key(session: Session, keys: Keyring, entry: ArchiveEntry) -> bytes | None:
    """The entry's key, or None when it was erased or purged."""
    payload = session.get(ArchivePayload, entry.id)
    if payload is None:
        return None
    return open_entry_key(session, keys, entry.subject_key_id, payload, entry.message_id)


def add_delivery_event(
    session: Session,
    *,
    message_id: str,
    kind: str,
    at: datetime,
    provider: str,
    detail: Mapping[str, Any],
    keys: Keyring | None = None,
) -> None:
    """Append one sealed delivery event to a message's entry; its detail is encrypted."""
    entry = entry_for_message(session, message_id)
    key = entry_key(session, keys or default_keyring(), entry)
    sealed = None
    if key is not None:
        sealed = crypto.encrypt_json(key, jsonable(dict(detail)), entry_aad(message_id, "event"))
    event = ArchiveEvent(
        archive_entry_id=entry.id,
        kind=kind,
        at=at,
        provider=provider,
        detail=sealed,
        recorded_at=utcnow(),
    )
    session.add(event)
    session.flush()


def erase_recipient(
    session: Session, recipient_key: str, *, actor: str, keys: Keyring | None = None
) -> int:
    """Destroy a data subject's keys; returns how many entries became unreadable. Audited."""
    keys = keys or default_keyring()
    lookup = recipient_lookup(session, keys, recipient_key)
    held = session.scalar(
        select(func.count()).select_from(held_entries(ArchiveEntry.recipient_lookup == lookup))
    )
    if held:
        raise OnLegalHold(f"{held} entries of this recipient are on legal hold; release them first")
    subjects = live_subject_keys(session, lookup)
    readable = select(func.count(ArchiveEntry.id)).join(
        ArchivePayload, ArchivePayload.entry_id == ArchiveEntry.id
    )
    ids = [s.id for s in subjects]
    count = session.scalar(readable.where(ArchiveEntry.subject_key_id.in_(ids))) or 0
    now = utcnow()
    for subject in subjects:
        subject.wrapped_key, subject.erased_at, subject.erased_by = None, now, actor
    if not subjects:  # nothing archived yet: the erasure is still kept, for late archiving
        erased = SubjectKey(lookup=lookup, master_id=keys.master_id)
        erased.erased_at, erased.erased_by = now, actor
        session.add(erased)
    detail = {"entries": count, "keys": len(ids)}
    audit.record(
        session,
        actor=actor,
        action="archive.erase",
        target_type="data_subject",
        target=lookup,
        detail=detail,
    )
    return count
