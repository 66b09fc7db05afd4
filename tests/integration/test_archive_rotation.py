"""Rotating the archive's master key: re-wrapped in batches, then the old key can go."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.archive import (
    ArchiveEntry,
    ArchiveFilters,
    ArchiveKeyError,
    ArchivePayload,
    Keyring,
    SubjectKey,
    erase_recipient,
    finish_rotation,
    read_entry,
    recipient_lookup,
    rewrap_batch,
    seal_archive,
    search,
    start_rotation,
    verify_archive,
)
from hcs.audit import AuditEntry
from tests.support.archive import EMAIL, KEYS, OUTPUT, make_entry

NEW = hashlib.sha256(b"archive tests, rotated").digest()
ROTATING = Keyring.from_master(NEW, previous=(KEYS.master,))
ROTATED = Keyring.from_master(NEW)
BO = "bo@example.com"


def seed(session: Session) -> list[ArchiveEntry]:
    """Four entries under the old master key: three recipients, one of them erased."""
    entries = [
        make_entry(session, 1),
        make_entry(session, 2),
        make_entry(session, 3, recipient_key=BO, recipient={"email": BO}),
        make_entry(session, 4, recipient_key="cy@example.com"),
    ]
    erase_recipient(session, "cy@example.com", actor="dpo", keys=KEYS)
    seal_archive(session)
    return entries


def rotate(session: Session, keys: Keyring = ROTATING, batch: int = 1) -> int:
    """What `hcs archive rotate-key` does, with every batch in a savepoint of its own."""
    start_rotation(session, keys, actor="ops")
    rewrapped = 0
    while True:
        with session.begin_nested():
            done = rewrap_batch(session, keys, limit=batch)
        if not done:
            break
        rewrapped += done
    finish_rotation(session, keys, rewrapped, actor="ops")
    return rewrapped


def masters(session: Session) -> list[tuple[str, bool]]:
    query = select(SubjectKey.master_id, SubjectKey.wrapped_key.is_(None))
    return [tuple(row) for row in session.execute(query.order_by(SubjectKey.id))]


def test_after_rotation_the_old_key_can_go_and_every_entry_still_reads(session: Session) -> None:
    entries = seed(session)
    payloads = {e.id: session.get_one(ArchivePayload, e.id).stored() for e in entries[:3]}
    assert rotate(session) == 2
    assert masters(session) == [(ROTATED.master_id, False)] * 2 + [(KEYS.master_id, True)]
    for entry in entries[:3]:
        opened = read_entry(session, entry.id, actor="aud@example.com", keys=ROTATED)
        assert opened.state == "readable" and opened.output == OUTPUT and opened.intact
        # The entries' own keys and ciphertexts are the same bytes: only subject keys changed.
        assert session.get_one(ArchivePayload, entry.id).stored() == payloads[entry.id]
    erased = read_entry(session, entries[3].id, actor="aud@example.com", keys=ROTATED)
    assert erased.state == "erased"
    assert verify_archive(session).ok


def test_recipients_are_found_and_erased_by_the_same_lookup_after_rotation(
    session: Session,
) -> None:
    entries = seed(session)
    rotate(session)
    assert recipient_lookup(session, ROTATED, EMAIL) == KEYS.lookup(EMAIL)
    found, total = search(session, ArchiveFilters(recipient=EMAIL), actor="a", keys=ROTATED)
    assert total == 2 and {e.id for e in found} == {entries[0].id, entries[1].id}
    later = make_entry(session, 5, keys=ROTATED)
    assert later.recipient_lookup == entries[0].recipient_lookup
    assert erase_recipient(session, EMAIL, actor="dpo", keys=ROTATED) == 3


def test_a_message_archived_mid_rotation_keeps_its_recipients_lookup(session: Session) -> None:
    first = make_entry(session, 1)
    # The new key is configured (the old one beside it) before rotate-key has run.
    during = make_entry(session, 2, keys=ROTATING)
    assert during.recipient_lookup == first.recipient_lookup
    assert rotate(session) == 1
    for entry in (first, during):
        assert read_entry(session, entry.id, actor="a", keys=ROTATED).output == OUTPUT


def test_a_second_run_rewraps_nothing_and_a_stopped_run_resumes(session: Session) -> None:
    seed(session)
    start_rotation(session, ROTATING, actor="ops")
    assert rewrap_batch(session, ROTATING, limit=1) == 1  # then the run stops
    assert rotate(session, batch=100) == 1
    assert rotate(session) == 0
    assert masters(session) == [(ROTATED.master_id, False)] * 2 + [(KEYS.master_id, True)]


def test_without_the_old_key_rotation_is_refused_and_changes_nothing(session: Session) -> None:
    seed(session)
    with pytest.raises(ArchiveKeyError, match=f"2 subject keys .* master key {KEYS.master_id}"):
        start_rotation(session, ROTATED, actor="ops")
    assert masters(session) == [(KEYS.master_id, False)] * 2 + [(KEYS.master_id, True)]


def test_a_rotation_is_audited_with_the_key_ids_and_the_count(session: Session) -> None:
    seed(session)
    rotate(session)
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("archive.key_rotation.%"))
    ).all()
    assert [(a.action, a.actor, a.target, a.detail) for a in audited] == [
        (
            "archive.key_rotation.started",
            "ops",
            ROTATED.master_id,
            {"from": [KEYS.master_id], "waiting": 2},
        ),
        ("archive.key_rotation.finished", "ops", ROTATED.master_id, {"rewrapped": 2}),
    ]
