"""`Idempotency-Key`, as payment APIs made it standard.

The same key with the same body returns the first answer and creates nothing; the same key with
another body is refused; keys are kept at least 24 hours (purged after 48).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hcs.messages.models import IdempotencyRecord
from templates_store.errors import Conflict, ValidationFailed
from templates_store.orm import utcnow

KEEP_FOR = timedelta(hours=48)
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class Replay:
    """The first answer to a request, to send again."""

    status_code: int
    body: dict[str, Any]


def request_hash(method: str, path: str, body: Any) -> str:
    """A digest of what was asked: method, path and the canonical JSON body."""
    text = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> str:
    """An idempotency key: 1 to 200 printable characters."""
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise ValidationFailed({"Idempotency-Key": ["use 1 to 200 printable characters"]})
    return key


def erased_key(principal: str, key: str) -> str:
    """What an erased recipient's record keeps of the caller's key (which may name them)."""
    return "erased:" + hashlib.sha256(f"{principal}\0{key}".encode()).hexdigest()


def find(session: Session, principal: str, key: str, digest: str) -> Replay | None:
    """The stored answer for this key, or None; another body under the same key is a conflict."""
    # A record whose recipient was erased keeps answering, under a digest of its key.
    keys = (key, erased_key(principal, key))
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key.in_(keys)
        )
    )
    if record is None:
        return None
    if record.request_hash != digest:
        raise Conflict("this Idempotency-Key was used with a different request")
    return Replay(record.status_code, record.response)


def remember(
    session: Session,
    principal: str,
    key: str,
    digest: str,
    status_code: int,
    body: dict[str, Any],
) -> None:
    """Store the answer in the same transaction as the work it describes."""
    session.add(
        IdempotencyRecord(
            principal=principal,
            key=key,
            request_hash=digest,
            status_code=status_code,
            response=body,
        )
    )
    session.flush()


def purge(session: Session, now: datetime | None = None) -> int:
    """Forget keys older than the retention (48 hours)."""
    cutoff = (now or utcnow()) - KEEP_FOR
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
