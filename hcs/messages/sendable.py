"""The version a send resolves to, checked sendable, in one statement (with its consent).

A sendable version's parts and schema are kept in memory (immutable: the flush guard refuses
any change to a version past draft). A single send's recipient is looked up in the same
statement: its consent row, and the one an erasure keeps under a pseudonym, joined in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, literal_column, select
from sqlalchemy.orm import Session

from hcs.messages.consent import Choices, erased_alias
from hcs.messages.models import Consent
from templates_store.errors import Conflict, NotFound
from templates_store.lookup import MAX_NUMBER
from templates_store.models import Template, TemplateVersion
from templates_store.status import SENDABLE, Status
from templates_store.variables import payload_loader


@dataclass(frozen=True)
class Sendable:
    """A version that may send right now, and what a send needs to know of it."""

    template_key: str
    category: str
    template_channels: tuple[str, ...]
    version_id: int
    number: int
    part_channels: frozenset[str]
    load: Any  # validates and converts a payload against the version's variable schema


_CONTENT_OF = select(
    TemplateVersion.__table__.c.parts, TemplateVersion.__table__.c.variables
).where(TemplateVersion.__table__.c.id == bindparam("id"))
_CONTENT: dict[tuple[int, str], tuple[frozenset[str], Any]] = {}
_CONTENT_LIMIT = 512


def _version_content(session: Session, version_id: int, closure_hash: str | None) -> Any:
    """The parts' channels and payload loader of a sendable version, read once per process.

    Keyed by id *and* closure hash: the hash names the content, so a cache never serves one
    database's version for another's row with the same id.
    """
    cache_key = (version_id, closure_hash or "")
    found = _CONTENT.get(cache_key)
    if found is None:
        parts, variables = session.connection().execute(_CONTENT_OF, {"id": version_id}).one()
        found = (frozenset(parts), payload_loader(variables))
        if closure_hash:  # a version without a hash is not final: never cache it
            if len(_CONTENT) >= _CONTENT_LIMIT:
                _CONTENT.clear()
            _CONTENT[cache_key] = found
    return found


_CONSENTS = cast(Table, Consent.__table__)


def _lookup(published: bool, consent: bool) -> Any:
    t, v = Template.__table__.c, TemplateVersion.__table__.c
    # 'published' written in the SQL, not bound: SQLite compiles a statement again at every
    # execution when a bound value might decide whether a partial index can serve it (the
    # published version's unique index is one), 40 us of this lookup's 50.
    is_published = v.status == literal_column(f"'{Status.PUBLISHED.value}'")
    which = is_published if published else v.number == bindparam("number")
    joined = Template.__table__.outerjoin(
        TemplateVersion.__table__, and_(v.template_id == t.id, which)
    )
    columns = [t.retired_at, t.category, t.channels]
    columns += [v.id, v.number, v.status, v.suspended_at, v.closure_hash]
    if consent:  # one row per choice found (none: one row of NULLs)
        c = _CONSENTS.c
        joined = joined.outerjoin(
            _CONSENTS,
            and_(
                c.recipient_key.in_([bindparam("recipient"), bindparam("alias")]),
                c.channel == bindparam("channel"),
                c.category == t.category,
            ),
        )
        columns += [c.recipient_key, c.status, c.source]
    return select(*columns).select_from(joined).where(t.key == bindparam("key"))


# Built once: a statement costs more to build than to run on this path.
_LOOKUPS = {(p, c): _lookup(p, c) for p in (True, False) for c in (True, False)}


def sendable_for(
    session: Session, key: str, number: int | None, recipient: tuple[str, str] | None = None
) -> tuple[Sendable, Choices | None]:
    """The published version, or the pinned approved one (drafts and retired ones never send);
    with `recipient` (its key and the channel) also their consent choices, as
    `hcs.messages.consent.reasons` reads them, found by the same statement."""
    params: dict[str, Any] = {"key": key}
    if number is not None:  # a number no version can have matches nothing (nor overflows)
        params["number"] = number if 1 <= number <= MAX_NUMBER else 0
    if recipient is not None:
        params["recipient"], params["channel"] = recipient
        params["alias"] = erased_alias(recipient[0])
    statement = _LOOKUPS[number is None, recipient is not None]
    rows = session.connection().execute(statement, params).all()
    if not rows:
        raise NotFound(f"no template with key {key!r}")
    sendable = _checked(session, key, number, rows[0][:8])
    if recipient is None:
        return sendable, None
    return sendable, {r[8]: (r[9], r[10]) for r in rows if r[8] is not None}


def _checked(session: Session, key: str, number: int | None, row: Any) -> Sendable:
    retired_at, category, channels, version_id, found, status, suspended_at, closure_hash = row
    if retired_at is not None:
        raise Conflict(f"template {key!r} is retired")
    if version_id is None:
        if number is None:
            raise Conflict(f"template {key!r} has no published version")
        raise NotFound(f"template {key!r} has no version {number}")
    if status not in SENDABLE:
        raise Conflict(f"version {number} of {key!r} is {status.value}; it cannot send")
    if suspended_at is not None:
        raise Conflict(f"version {found} of {key!r} is suspended")
    part_channels, load = _version_content(session, version_id, closure_hash)
    return Sendable(key, category, tuple(channels), version_id, found, part_channels, load)
