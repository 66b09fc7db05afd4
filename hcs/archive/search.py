"""Finding entries (by recipient without storing the address), and exporting a search as a zip."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hcs import audit
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.models import ArchiveEntry
from hcs.archive.reading import describe, open_entry
from hcs.sealing import jsonable

EXTENSIONS = {
    "message/rfc822": "eml",
    "application/pdf": "pdf",
    "application/json": "json",
    "text/plain": "txt",
}


@dataclass(frozen=True)
class ArchiveFilters:
    """A search: every given field must match; `recipient` is a normalised address."""

    recipient: str | None = None
    template: str | None = None
    channel: str | None = None
    category: str | None = None
    message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(filters: ArchiveFilters, keys: Keyring) -> Select[ArchiveEntry]:
    query = select(ArchiveEntry)
    if filters.recipient is not None:
        query = query.where(ArchiveEntry.recipient_lookup == keys.lookup(filters.recipient))
    for name in ("template", "channel", "category", "message_id"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(ArchiveEntry, name) == value)
    if filters.since is not None:
        query = query.where(ArchiveEntry.sent_at >= filters.since)
    if filters.until is not None:
        query = query.where(ArchiveEntry.sent_at < filters.until)
    return query


def search(
    session: Session,
    filters: ArchiveFilters,
    *,
    limit: int = 50,
    offset: int = 0,
    keys: Keyring | None = None,
) -> tuple[list[ArchiveEntry], int]:
    """Entries matching `filters`, newest first, and how many match in all."""
    query = _query(filters, keys or default_keyring())
    total = session.scalar(query.with_only_columns(func.count(ArchiveEntry.id))) or 0
    page = query.order_by(ArchiveEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def _all(session: Session, filters: ArchiveFilters, keys: Keyring) -> Iterator[ArchiveEntry]:
    after = 0
    query = _query(filters, keys).order_by(ArchiveEntry.id).limit(200)
    while entries := list(session.scalars(query.where(ArchiveEntry.id > after))):
        yield from entries
        after = entries[-1].id


def file_name(entry: ArchiveEntry) -> str:
    """The name of an entry's output in an export: `<id>.eml`, `<id>.pdf`, ..."""
    base = entry.content_type.split(";")[0].strip().lower()
    return f"{entry.id}.{EXTENSIONS.get(base, 'bin')}"


def _zip_info(name: str, at: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def export_search(
    session: Session,
    filters: ArchiveFilters,
    out: BinaryIO,
    *,
    actor: str,
    keys: Keyring | None = None,
) -> int:
    """Write a zip: `entries.jsonl` (one entry per line) and each output as a file. Audited."""
    keys = keys or default_keyring()
    count = 0
    with zipfile.ZipFile(out, "w") as archive:
        lines = []
        for entry in _all(session, filters, keys):
            opened = open_entry(session, entry, keys)
            record = {k: v for k, v in describe(opened).items() if k not in ("output",)}
            del record["output_encoding"]
            if opened.output is not None:
                record["file"] = file_name(entry)
                archive.writestr(_zip_info(record["file"], entry.sent_at), opened.output)
            lines.append(json.dumps(jsonable(record), sort_keys=True, ensure_ascii=False))
            count += 1
        jsonl = "".join(line + "\n" for line in lines).encode()
        archive.writestr(_zip_info("entries.jsonl", datetime.now()), jsonl)
    _record_export(session, filters, keys, actor, count)
    return count


def _record_export(
    session: Session, filters: ArchiveFilters, keys: Keyring, actor: str, count: int
) -> None:
    criteria: dict[str, Any] = {k: v for k, v in asdict(filters).items() if v is not None}
    if "recipient" in criteria:
        criteria["recipient"] = keys.lookup(criteria.pop("recipient"))
    audit.record(
        session,
        actor=actor,
        action="archive.export",
        target_type="archive_search",
        target=json.dumps(jsonable(criteria), sort_keys=True)[:300],
        detail={"entries": count, "filters": criteria},
    )
