"""The sealing mechanism: entries hashed on insert, sealed in chained batches, verified."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hcs.audit import AuditEntry, record
from hcs.infrastructure.db import make_engine, session_factory, transaction
from hcs.sealing import (
    GENESIS,
    AppendOnlyViolation,
    Seal,
    digest,
    head,
    make_seal,
    merkle_root,
    seal_hash,
    seal_pending,
    verify,
)


def _entries(session: Session, count: int, *, start: int = 0) -> list[AuditEntry]:
    return [
        record(
            session,
            actor="ana@example.com",
            action="version.approve",
            target_type="template_version",
            target=f"order-confirmation v{start + i + 1}",
            before={"status": "in_review"},
            after={"status": "approved"},
        )
        for i in range(count)
    ]


def _seals(session: Session) -> list[Seal]:
    return list(session.scalars(select(Seal).where(Seal.log == "audit").order_by(Seal.first_seq)))


def _raw(session: Session, sql: str, **params: object) -> None:
    """Plain SQL on the connection, past the ORM and its guard: what a database user could do."""
    session.connection().execute(text(sql), params)


def test_an_entry_is_hashed_on_insert_and_waits_unsealed(session: Session) -> None:
    (entry,) = _entries(session, 1)
    assert entry.seq is None and entry.seal_id is None
    assert len(entry.entry_hash) == 64 and entry.entry_hash == entry.compute_hash()


def test_an_entry_added_without_record_is_hashed_with_its_defaults(session: Session) -> None:
    entry = AuditEntry(actor="system", action="policy.update", target_type="policy", target="x")
    session.add(entry)
    session.flush()
    session.expire(entry)
    assert entry.detail == {} and entry.at is not None
    assert entry.entry_hash == entry.compute_hash()


def test_sealing_numbers_entries_in_batches_chained_to_the_previous_seal(
    session: Session,
) -> None:
    entries = _entries(session, 7)
    assert seal_pending(session, AuditEntry, batch_size=3) == 7
    seals = _seals(session)
    assert [(s.first_seq, s.last_seq) for s in seals] == [(1, 3), (4, 6), (7, 7)]
    assert [s.prev_hash for s in seals] == [GENESIS, seals[0].hash, seals[1].hash]
    assert [e.seq for e in entries] == list(range(1, 8))
    assert entries[3].seal_id == seals[1].id
    assert seals[1].leaf_hashes() == [e.entry_hash for e in entries[3:6]]
    assert all(seal_hash(s) == s.hash for s in seals)


def test_sealing_again_continues_the_chain_and_seals_nothing_twice(session: Session) -> None:
    _entries(session, 4)
    seal_pending(session, AuditEntry, batch_size=10)
    assert seal_pending(session, AuditEntry) == 0
    last = head(session, "audit")
    later = _entries(session, 2, start=4)
    assert seal_pending(session, AuditEntry) == 2
    newest = head(session, "audit")
    assert newest is not None and last is not None
    assert (newest.first_seq, newest.prev_hash) == (5, last.hash)
    assert [e.seq for e in later] == [5, 6]


def test_sealing_includes_entries_not_flushed_yet_and_wants_a_real_batch(
    session: Session,
) -> None:
    entry = AuditEntry(actor="system", action="policy.update", target_type="policy", target="p")
    session.add(entry)
    assert seal_pending(session, AuditEntry) == 1 and entry.seq == 1
    with pytest.raises(ValueError, match="batch_size"):
        seal_pending(session, AuditEntry, batch_size=0)


def test_verify_passes_an_untouched_log_and_counts_unsealed_entries(session: Session) -> None:
    _entries(session, 5)
    seal_pending(session, AuditEntry, batch_size=2)
    _entries(session, 1, start=5)
    result = verify(session, AuditEntry)
    assert result.ok and (result.checked, result.seals) == (6, 3)
    assert result.head == head(session, "audit").hash  # type: ignore[union-attr]


def test_verify_names_an_entry_edited_with_raw_sql(session: Session) -> None:
    entries = _entries(session, 5)
    seal_pending(session, AuditEntry, batch_size=2)
    _raw(session, "UPDATE audit_entries SET actor = 'mallory' WHERE id = :id", id=entries[2].id)
    result = verify(session, AuditEntry)
    assert not result.ok
    assert (result.first_bad_id, result.first_bad_seq) == (entries[2].id, 3)
    assert result.reason == "does not match its seal" and result.checked == 2


def test_verify_names_an_edited_entry_even_when_its_hash_was_rewritten(session: Session) -> None:
    entries = _entries(session, 4)
    seal_pending(session, AuditEntry)
    forged = AuditEntry.hash_values({**_columns(entries[1]), "target": "payment-due v9"})
    _raw(
        session,
        "UPDATE audit_entries SET target = 'payment-due v9', entry_hash = :forged WHERE id = :id",
        forged=forged,
        id=entries[1].id,
    )
    result = verify(session, AuditEntry)
    assert (result.ok, result.first_bad_id, result.reason) == (
        False,
        entries[1].id,
        "does not match its seal",
    )


def _columns(entry: AuditEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in AuditEntry.hashed_columns}


def test_verify_names_an_entry_edited_before_it_was_sealed(session: Session) -> None:
    entries = _entries(session, 3)
    _raw(
        session,
        "UPDATE audit_entries SET action = 'version.reject' WHERE id = :id",
        id=entries[0].id,
    )
    assert verify(session, AuditEntry).reason == "does not match its hash (not sealed yet)"
    seal_pending(session, AuditEntry)  # the sealer trusts the hash taken at insert
    result = verify(session, AuditEntry)
    assert (result.first_bad_id, result.reason) == (entries[0].id, "does not match its seal")


def test_verify_names_a_deleted_entry_by_its_seq(session: Session) -> None:
    entries = _entries(session, 4)
    seal_pending(session, AuditEntry)
    _raw(session, "DELETE FROM audit_entries WHERE id = :id", id=entries[2].id)
    result = verify(session, AuditEntry)
    assert (result.ok, result.first_bad_id, result.first_bad_seq) == (False, None, 3)
    assert result.reason == f"entry seq 3 is missing from seal {entries[0].seal_id}"


def test_verify_catches_a_rewritten_seal(session: Session) -> None:
    _entries(session, 6)
    seal_pending(session, AuditEntry, batch_size=2)
    second = _seals(session)[1]
    _raw(session, "UPDATE seals SET root = :root WHERE id = :id", root="ab" * 32, id=second.id)
    result = verify(session, AuditEntry)
    assert result.reason == f"seal {second.id} (seq 3-4) does not match its hash"
    assert (result.first_bad_seq, result.seals, result.checked) == (3, 1, 2)


def test_verify_catches_a_consistently_forged_batch_at_the_next_seal(session: Session) -> None:
    entries = _entries(session, 6)
    seal_pending(session, AuditEntry, batch_size=2)
    second = _seals(session)[1]
    forged = AuditEntry.hash_values({**_columns(entries[2]), "actor": "mallory"})
    rewritten = make_seal("audit", 3, [forged, entries[3].entry_hash], second.prev_hash)
    _raw(
        session,
        "UPDATE audit_entries SET actor = 'mallory', entry_hash = :h WHERE id = :id",
        h=forged,
        id=entries[2].id,
    )
    _raw(
        session,
        "UPDATE seals SET leaves = :leaves, root = :root, hash = :hash, "
        "sealed_at = :at WHERE id = :id",
        leaves=rewritten.leaves,
        root=rewritten.root,
        hash=rewritten.hash,
        at=rewritten.sealed_at,
        id=second.id,
    )
    result = verify(session, AuditEntry)
    assert result.reason.endswith("(seq 5-6) does not follow the seal before it")
    assert (result.seals, result.checked, result.head) == (2, 4, rewritten.hash)


def test_verify_catches_an_entry_moved_outside_every_seal(session: Session) -> None:
    entries = _entries(session, 2)
    seal_pending(session, AuditEntry)
    _entries(session, 1, start=2)
    _raw(session, "UPDATE audit_entries SET seq = 3 WHERE id = :id", id=entries[-1].id + 1)
    result = verify(session, AuditEntry)
    assert (result.first_bad_id, result.reason) == (entries[-1].id + 1, "is outside every seal")


def test_entries_and_seals_refuse_changes_through_the_orm(session: Session) -> None:
    (entry,) = _entries(session, 1)
    seal_pending(session, AuditEntry)
    attempts = [
        lambda: setattr(entry, "target", "changed"),
        lambda: setattr(entry, "seq", 99),
        lambda: session.delete(entry),
        lambda: setattr(_seals(session)[0], "root", "00" * 32),
        lambda: session.delete(_seals(session)[0]),
    ]
    for attempt in attempts:
        savepoint = session.begin_nested()
        attempt()
        with pytest.raises(AppendOnlyViolation, match="is append-only"):
            session.flush()
        savepoint.rollback()
    for statement in (update(AuditEntry).values(actor="x"), update(Seal).values(root="")):
        with pytest.raises(AppendOnlyViolation, match="no bulk changes"):
            session.execute(statement)


def test_numbering_an_unsealed_entry_once_is_allowed(session: Session) -> None:
    (entry,) = _entries(session, 1)
    entry.seq = 1
    session.flush()
    assert entry.seq == 1


def test_the_database_refuses_a_fork_of_the_chain(session: Session) -> None:
    _entries(session, 2)
    seal_pending(session, AuditEntry)
    rival = make_seal("audit", 3, ["00" * 32], GENESIS)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(rival)
        session.flush()


def test_merkle_roots_match_the_rfc_6962_test_vectors() -> None:
    leaves = [
        bytes.fromhex(h)
        for h in (
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        )
    ]
    assert merkle_root([]).hex() == hashlib.sha256(b"").hexdigest()
    assert merkle_root(leaves[:1]).hex().startswith("6e340b9c")
    assert merkle_root(leaves[:3]).hex().startswith("aeb6bcfe")
    assert merkle_root(leaves).hex().startswith("5dc9da79")


def test_the_hash_covers_stored_values_in_one_canonical_form() -> None:
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert digest({"b": 1, "a": at}) == digest({"a": "2026-11-23T12:00:00+00:00", "b": 1})
    assert digest(b"ciphertext") == digest(memoryview(b"ciphertext")) != digest(b"other")
    assert digest(Decimal("1.10")) == digest("1.10")
    with pytest.raises(ValueError, match="naive"):
        digest(datetime(2026, 11, 23))


def test_two_sealers_at_once_seal_every_entry_once_in_one_chain(
    migrated_database_url: str,
) -> None:
    engine = make_engine(migrated_database_url)
    factory = session_factory(engine)
    start, done = threading.Barrier(3), threading.Event()
    sealed: list[int] = []
    verified: list[bool] = []
    errors: list[Exception] = []

    def writer_and_sealer(offset: int) -> None:
        start.wait()
        for round_ in range(8):
            with transaction(factory) as session:
                _entries(session, 15, start=offset + round_ * 15)
            with transaction(factory) as session:
                sealed.append(seal_pending(session, AuditEntry, batch_size=7))

    def verifier() -> None:
        start.wait()
        while True:
            with transaction(factory) as session:
                verified.append(verify(session, AuditEntry).ok)
            if done.wait(0.02):  # now and then, as an auditor would; SQLite locks are unfair
                return

    def catching(work: Callable[..., None], *args: int) -> threading.Thread:
        def run() -> None:
            try:
                work(*args)
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)

        return threading.Thread(target=run)

    workers = [catching(writer_and_sealer, n * 1000) for n in (0, 1)]
    checker = catching(verifier)
    try:
        for thread in [*workers, checker]:
            thread.start()
        for thread in workers:
            thread.join()
        done.set()
        checker.join()
        assert errors == [] and sum(sealed) == 240
        with transaction(factory) as session:
            result = verify(session, AuditEntry)
            seqs = session.scalar(select(func.count(func.distinct(AuditEntry.seq))))
    finally:
        engine.dispose()
    assert result.ok and result.checked == 240 and seqs == 240
    assert verified and all(verified)
