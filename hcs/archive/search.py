"""Finding entries (by recipient without storing the address), and exporting a search as a zip."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hcs import audit
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.lookups import recipient_lookup
from hcs.archive.models import ArchiveEntry
from hcs.archive.reading import TEST_PROVIDER, OpenedEntry, describe, open_entry
from hcs.sealing import jsonable
from templates_store.orm import utcnow

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
    test: bool | None = None  # only test keys' messages (True), or only live ones (False)


def _query(session: Session, filters: ArchiveFilters, keys: Keyring) -> Select[ArchiveEntry]:
    query = select(ArchiveEntry)
    if filters.recipient is not None:
        lookup = recipient_lookup(session, keys, filters.recipient)
        query = query.where(ArchiveEntry.recipient_lookup == lookup)
    for name in ("template", "channel", "category", "message_id"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(ArchiveEntry, name) == value)
    if filters.test is not None:
        is_test = ArchiveEntry.provider == TEST_PROVIDER
        query = query.where(is_test if filters.test else ~is_test)
    if filters.since is not None:
        query = query.where(ArchiveEntry.sent_at >= filters.since)
    if filters.until is not None:
        query = query.where(ArchiveEntry.sent_at < filters.until)
    return query


def search(
    session: Session,
    filters: ArchiveFilters,
    *,
    actor: str,
    limit: int = 50,
    offset: int = 0,
    keys: Keyring | None = None,
) -> tuple[list[ArchiveEntry], int]:
    """Entries matching `filters`, newest first, and how many match in all. Audited."""
    keys = keys or default_keyring()
    query = _query(session, filters, keys)
    total = session.scalar(query.with_only_columns(func.count(ArchiveEntry.id))) or 0
    page = query.order_by(ArchiveEntry.id.desc()).limit(limit).offset(offset)
    entries = list(session.scalars(page))
    detail = {"results": total, "offset": offset, "shown": len(entries)}
    _record(session, "archive.search", filters, keys, actor, detail)
    return entries, total


def _all(session: Session, filters: ArchiveFilters, keys: Keyring) -> Iterator[ArchiveEntry]:
    after = 0
    query = _query(session, filters, keys).order_by(ArchiveEntry.id).limit(200)
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
    # The JSON lines wait on disk past a few MB while the outputs stream into the zip.
    with zipfile.ZipFile(out, "w") as archive, SpooledTemporaryFile(8 << 20) as lines:
        for entry in _all(session, filters, keys):
            record = _add_entry(archive, open_entry(session, entry, keys))
            lines.write(json.dumps(record, sort_keys=True, ensure_ascii=False).encode() + b"\n")
            count += 1
        lines.seek(0)
        with archive.open(_zip_info("entries.jsonl", utcnow()), "w") as target:
            shutil.copyfileobj(lines, target)
    _record(session, "archive.export", filters, keys, actor, {"entries": count})
    return count


def _add_entry(archive: zipfile.ZipFile, opened: OpenedEntry) -> dict[str, Any]:
    """Write the entry's output as a file; return its JSON line's object."""
    record = describe(opened)
    del record["output"], record["output_encoding"]
    if opened.output is not None:
        record["file"] = file_name(opened.entry)
        archive.writestr(_zip_info(record["file"], opened.entry.sent_at), opened.output)
    return jsonable(record)  # type: ignore[no-any-return]


def criteria(session: Session, filters: ArchiveFilters, keys: Keyring) -> dict[str, Any]:
    """The filters given, as JSON; the recipient by its lookup, never its address."""
    given: dict[str, Any] = {k: v for k, v in asdict(filters).items() if v is not None}
    if "recipient" in given:
        given["recipient"] = recipient_lookup(session, keys, given.pop("recipient"))
    return jsonable(given)  # type: ignore[no-any-return]


def _record(
    session: Session,
    action: str,
    filters: ArchiveFilters,
    keys: Keyring,
    actor: str,
    detail: dict[str, Any],
) -> None:
    given = criteria(session, filters, keys)
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="archive_search",
        target=json.dumps(given, sort_keys=True)[:300],
        detail={**detail, "filters": given},
    )
