"""Erasing a data subject everywhere: the archive's keys, then every working copy.

`erase_subject` is what `hcs archive erase` does: the archive erases (or, under legal hold,
records and defers) and, when it did, the messages, their events, reports, outbox rows,
consent and sign-off items are redacted too (`hcs.messages.erasure`, `hcs.signoffs.erasure`).
A deferred erasure is carried out everywhere by `release_hold`, once no hold covers the subject.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hcs import archive, audit
from hcs.channels.addresses import lookup_key
from hcs.messages.erasure import erase_messages
from hcs.signoffs.erasure import erase_signoffs

DONE = "done"


def erase_copies(session: Session, key: str, lookup: str, *, actor: str) -> int:
    """Redact one recipient's messages and what is kept beside them; how many messages. Audited."""
    ids = erase_messages(session, key, actor=actor)
    items = erase_signoffs(session, ids)
    audit.record(
        session,
        actor=actor,
        action="messages.erase",
        target_type="data_subject",
        target=lookup,
        detail={"messages": len(ids), "signoffs": items},
    )
    return len(ids)


def erase_subject(
    session: Session, recipient: str, *, actor: str, keys: archive.Keyring | None = None
) -> archive.ErasureRequest:
    """Erase a recipient's archive entries and working copies, or defer it all under a hold."""
    key = lookup_key(recipient)
    request = archive.request_erasure(session, key, actor=actor, keys=keys)
    if request.state == DONE:
        erase_copies(session, key, request.lookup, actor=actor)
    return request


def release_hold(
    session: Session,
    *,
    entry_id: int | None = None,
    recipient_key: str | None = None,
    actor: str,
    keys: archive.Keyring | None = None,
) -> int:
    """Release holds (see `archive.release_hold`), then carry out the erasures they deferred."""
    released = archive.release_hold(
        session, entry_id=entry_id, recipient_key=recipient_key, actor=actor, keys=keys
    )
    for request, key in archive.carry_out_deferred(session, actor=actor, keys=keys):
        if key is not None:
            erase_copies(session, key, request.lookup, actor=f"{actor} (deferred)")
    return released
