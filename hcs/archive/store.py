"""Writing the archive: one entry per sent output, and its delivery events."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from hcs.archive import crypto
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.errors import AlreadyArchived, EntryNotFound
from hcs.archive.keys import entry_aad, open_entry_key, subject_keys
from hcs.archive.lookups import archive_keyring
from hcs.archive.models import ArchiveEntry, ArchiveEvent, ArchivePayload
from hcs.archive.retention import policy_in_force, retain_until
from hcs.infrastructure.inserts import insert_rows
from hcs.sealing import jsonable
from templates_store.orm import utcnow


def data_digest(data: Mapping[str, Any]) -> str:
    """`sha256:` + SHA-256 of the data's canonical JSON (sorted keys, no spaces, UTF-8)."""
    return _digest_of(crypto.canonical_json(jsonable(dict(data))))


def _digest_of(canonical: bytes) -> str:
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Output:
    """One sent output to archive, with what the entry records about it."""

    message_id: str
    template: str
    version: int
    closure_hash: str
    channel: str
    locale: str
    category: str
    recipient_key: str
    recipient: Mapping[str, Any]
    data: Mapping[str, Any]
    output: bytes
    content_type: str
    provider: str
    provider_message_id: str | None
    sent_at: datetime
    ai: Mapping[str, Any] | None = None


def _sealed(subject: bytes, output: Output) -> tuple[dict[str, bytes | None], str]:
    """The payload's stored bytes under a new entry key, and the data's digest.

    The data's canonical JSON is made once: the digest hashes the bytes that are encrypted.
    """
    key, message_id = crypto.new_key(), output.message_id
    data = crypto.canonical_json(jsonable(dict(output.data)))
    who = {"key": output.recipient_key, "to": jsonable(dict(output.recipient))}
    encrypt = crypto.encryptor(key)

    def sealed(part: str, plain: bytes) -> bytes:
        return encrypt(plain, entry_aad(message_id, part))

    ai = output.ai
    return {
        "wrapped_key": crypto.encrypt(subject, key, entry_aad(message_id, "key")),
        "output": sealed("output", output.output),
        "recipient": sealed("recipient", crypto.canonical_json(who)),
        "data": sealed("data", data),
        "ai": None if ai is None else sealed("ai", crypto.canonical_json(jsonable(dict(ai)))),
    }, _digest_of(data)


def archive_output(session: Session, *, keys: Keyring | None = None, **fields: Any) -> ArchiveEntry:
    """Archive one sent output (the fields of `Output`) in the caller's transaction."""
    return archive_outputs(session, [Output(**fields)], keys)[0]


def archive_outputs(
    session: Session, outputs: Sequence[Output], keys: Keyring | None = None
) -> list[ArchiveEntry]:
    """Archive sent outputs in the caller's transaction; their entries, in the session."""
    rows = _write(session, outputs, keys)
    entries = []
    for values in rows:
        entry = ArchiveEntry(**values)
        make_transient_to_detached(entry)
        session.add(entry)  # persistent as inserted, with no further SQL
        entries.append(entry)
    return entries


def record_outputs(
    session: Session, outputs: Sequence[Output], keys: Keyring | None = None
) -> list[int]:
    """Archive sent outputs as `archive_outputs` does; only their entries' ids, no objects.

    For the dispatcher's rounds, which need nothing back: building objects cost as much as
    encrypting.
    """
    return [values["id"] for values in _write(session, outputs, keys)]


def _write(
    session: Session, outputs: Sequence[Output], keys: Keyring | None
) -> list[dict[str, Any]]:
    """Personal data encrypted, entries hashed and inserted: their stored values, ids included.

    A few statements for them all: the subjects' keys, the retention policy, the entries, the
    payloads.
    """
    keys = keys or default_keyring()
    lookup_keys = archive_keyring(session, keys)
    lookups = [lookup_keys.lookup(output.recipient_key) for output in outputs]
    subjects = subject_keys(session, keys, lookups)
    periods, archived_at = policy_in_force(session), utcnow()
    rows, payloads = [], []
    for output, lookup in zip(outputs, lookups, strict=True):
        subject_id, plain = subjects[lookup]
        payload, digest_of_data = _sealed(plain, output)
        values = _entry_values(output, lookup, subject_id, digest_of_data, payload)
        values["archived_at"] = archived_at
        values["retain_until"] = retain_until(periods, output.category, output.sent_at)
        values["entry_hash"] = ArchiveEntry.hash_values(values)
        rows.append(values)
        payloads.append(payload)
    _insert(session, rows, payloads)
    return rows


def _entry_values(
    output: Output,
    lookup: str,
    subject_id: int,
    digest_of_data: str,
    payload: dict[str, bytes | None],
) -> dict[str, Any]:
    values = {
        "message_id": output.message_id,
        "template": output.template,
        "version": output.version,
        "closure_hash": output.closure_hash,
        "channel": output.channel,
        "locale": output.locale,
        "category": output.category,
        "recipient_lookup": lookup,
        "subject_key_id": subject_id,
        "data_digest": digest_of_data,
        "payload_digest": crypto.digest_bytes(payload),
        "content_type": output.content_type,
        "output_size": len(output.output),
        "provider": output.provider,
        "provider_message_id": output.provider_message_id,
        "has_ai": output.ai is not None,
        "sent_at": output.sent_at,
        "seq": None,
        "seal_id": None,
    }
    return values  # hashed by the caller (as the sealing guard hashes an ORM insert)


_ENTRIES = cast(Table, ArchiveEntry.__table__)
_PAYLOADS = cast(Table, ArchivePayload.__table__)


def _insert(
    session: Session, rows: list[dict[str, Any]], payloads: list[dict[str, bytes | None]]
) -> None:
    """Insert the entries and their payloads; each row gets its id."""
    # Not the unit of work, nor even Core's per-row parameters: this runs for every round sent,
    # inside the dispatcher's transaction (see `hcs.infrastructure.inserts`).
    connection = session.connection()
    try:
        # Ids matched by message id (unique), not by the rows' order, which SQLite's RETURNING
        # does not promise.
        made = insert_rows(connection, _ENTRIES, rows, returning=("message_id", "id"))
    except IntegrityError as exc:
        if "message_id" in str(exc.orig):
            which = rows[0]["message_id"] if len(rows) == 1 else "of this batch"
            raise AlreadyArchived(f"message {which} is archived already") from exc
        raise
    ids: dict[str, int] = dict(made)
    for values in rows:
        values["id"] = ids[values["message_id"]]
    paid = [{"entry_id": v["id"], **p} for v, p in zip(rows, payloads, strict=True)]
    insert_rows(connection, _PAYLOADS, paid)


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
