"""Reading entries back: decrypted when their keys live, saying so when erased or purged."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive import crypto
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.errors import EntryNotFound
from hcs.archive.integrity import is_intact
from hcs.archive.keys import entry_aad, open_entry_key
from hcs.archive.models import ArchiveEntry, ArchiveEvent, ArchivePayload

# The provider test keys' messages record: marked `test` in the archive, kept apart by a filter.
TEST_PROVIDER = "test"
TEXT_TYPES = ("text/", "application/json", "message/rfc822")
CLEAR_FIELDS = (
    "id",
    "message_id",
    "template",
    "version",
    "closure_hash",
    "channel",
    "locale",
    "category",
    "content_type",
    "output_size",
    "provider",
    "provider_message_id",
    "data_digest",
    "has_ai",
    "sent_at",
    "archived_at",
    "seq",
)


@dataclass
class OpenedEntry:
    """An entry with what its keys still open: everything, or nothing when erased or purged."""

    entry: ArchiveEntry
    state: str  # "readable", "erased" or "purged"
    intact: bool
    output: bytes | None = None
    recipient: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    ai: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def get_entry(session: Session, entry_id: int) -> ArchiveEntry:
    """One entry by id; EntryNotFound when there is none."""
    entry = session.get(ArchiveEntry, entry_id) if 0 < entry_id < 2**31 else None
    if entry is None:
        raise EntryNotFound(f"archive entry {entry_id} does not exist")
    return entry


def open_entry(session: Session, entry: ArchiveEntry, keys: Keyring) -> OpenedEntry:
    """Decrypt what can be decrypted of one entry, and check its integrity."""
    payload = session.get(ArchivePayload, entry.id)
    key = None
    if payload is not None:
        key = open_entry_key(session, keys, entry.subject_key_id, payload, entry.message_id)
    state = "purged" if payload is None else "erased" if key is None else "readable"
    opened = OpenedEntry(entry, state, is_intact(session, entry))
    if payload is not None and key is not None:
        _decrypt_payload(opened, payload, key)
    opened.events = _events(session, entry, key)
    return opened


def _decrypt_payload(opened: OpenedEntry, payload: ArchivePayload, key: bytes) -> None:
    message_id = opened.entry.message_id
    opened.output = crypto.decrypt(key, payload.output, entry_aad(message_id, "output"))
    opened.recipient = crypto.decrypt_json(
        key, payload.recipient, entry_aad(message_id, "recipient")
    )
    opened.data = crypto.decrypt_json(key, payload.data, entry_aad(message_id, "data"))
    if payload.ai is not None:
        opened.ai = crypto.decrypt_json(key, payload.ai, entry_aad(message_id, "ai"))


def _events(session: Session, entry: ArchiveEntry, key: bytes | None) -> list[dict[str, Any]]:
    query = (
        select(ArchiveEvent)
        .where(ArchiveEvent.archive_entry_id == entry.id)
        .order_by(ArchiveEvent.id)
    )
    aad = entry_aad(entry.message_id, "event")
    return [
        {
            "kind": event.kind,
            "at": event.at,
            "provider": event.provider,
            "detail": None
            if key is None or event.detail is None
            else crypto.decrypt_json(key, event.detail, aad),
            "sealed": event.seq is not None,
        }
        for event in session.scalars(query)
    ]


def read_entry(
    session: Session, entry_id: int, *, actor: str, keys: Keyring | None = None
) -> OpenedEntry:
    """One entry, decrypted as far as its keys allow; the reading is audited (`archive.read`)."""
    opened = open_entry(session, get_entry(session, entry_id), keys or default_keyring())
    audit.record(
        session,
        actor=actor,
        action="archive.read",
        target_type="archive_entry",
        target=str(entry_id),
        detail={"state": opened.state},
    )
    return opened


def is_text(content_type: str) -> bool:
    """Whether an output of `content_type` reads as text."""
    return content_type.startswith(TEXT_TYPES) or content_type.split(";")[0].endswith("+json")


def output_field(content_type: str, output: bytes) -> tuple[str, str]:
    """The output as JSON text and its encoding: `text` for text types, else `base64`."""
    if is_text(content_type):
        try:
            return output.decode("utf-8"), "text"
        except UnicodeDecodeError:
            pass
    return base64.b64encode(output).decode("ascii"), "base64"


def clear_fields(entry: ArchiveEntry) -> dict[str, Any]:
    """The entry's fields stored in clear."""
    fields = {name: getattr(entry, name) for name in CLEAR_FIELDS}
    return {**fields, "sealed": entry.seq is not None, "test": entry.provider == TEST_PROVIDER}


def describe(opened: OpenedEntry) -> dict[str, Any]:
    """The opened entry: its clear fields, its state, and what could be decrypted."""
    body: dict[str, Any] = {
        **clear_fields(opened.entry),
        "state": opened.state,
        "erased": opened.state == "erased",
        "purged": opened.state == "purged",
        "intact": opened.intact,
        "recipient": opened.recipient,
        "data": opened.data,
        "ai": opened.ai,
        "events": opened.events,
        "output": None,
        "output_encoding": None,
    }
    if opened.output is not None:
        body["output"], body["output_encoding"] = output_field(
            opened.entry.content_type, opened.output
        )
    return body
