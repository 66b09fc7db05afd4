"""Archive test helpers: a fixed keyring and plain factory functions with defaults."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from hcs.archive import ArchiveEntry, Keyring, archive_output
from templates_store.orm import utcnow

KEYS = Keyring.from_master(hashlib.sha256(b"archive tests").digest())
EMAIL = "ana.lopez@example.com"
OUTPUT = (
    b"From: shop@example.com\r\nTo: ana.lopez@example.com\r\nSubject: Order A-1001\r\n\r\n"
    b"Dear Ana Lopez, your order A-1001 is confirmed.\r\n"
)


def entry_fields(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """The fields of one archived email (those of `archive.Output`), with defaults."""
    values: dict[str, Any] = {
        "message_id": f"msg-{n:06d}",
        "template": "order-confirmation",
        "version": 3,
        "closure_hash": "sha256:" + "ab" * 32,
        "channel": "email",
        "locale": "en",
        "category": "transactional",
        "recipient_key": EMAIL,
        "recipient": {"email": EMAIL, "name": "Ana Lopez"},
        "data": {"order_id": "A-1001", "first_name": "Ana", "total": "42.50"},
        "output": OUTPUT,
        "content_type": "message/rfc822",
        "provider": "outbox",
        "provider_message_id": f"prov-{n}",
        "ai": None,
        "sent_at": utcnow(),
    }
    return values | overrides


def make_entry(session: Session, n: int = 1, **overrides: Any) -> ArchiveEntry:
    """Archive one email with defaults; any argument of `archive_output` can be overridden."""
    return archive_output(session, **entry_fields(n, **{"keys": KEYS, **overrides}))


def raw_rows(session: Session, table: str) -> bytes:
    """Every stored value of `table` as bytes, for grepping what sits in the database."""
    rows = session.connection().execute(text(f"SELECT * FROM {table}")).all()
    return b"\n".join(_as_bytes(value) for row in rows for value in row)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()


def raw(session: Session, sql: str, **params: object) -> None:
    """Plain SQL past the ORM and its guard: what a database user could do."""
    session.connection().execute(text(sql), params)
