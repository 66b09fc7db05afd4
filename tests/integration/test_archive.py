"""The archive: entries written, read back, searched, erased, and proven unchanged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.archive import (
    AlreadyArchived,
    ArchiveEntry,
    ArchiveFilters,
    ArchiveKeyError,
    EntryNotFound,
    Keyring,
    OnLegalHold,
    Output,
    SubjectKey,
    add_delivery_event,
    archive_outputs,
    erase_recipient,
    is_intact,
    place_hold,
    read_entry,
    recipient_lookup,
    record_outputs,
    seal_archive,
    search,
    verify_archive,
)
from hcs.audit import AuditEntry
from templates_store.orm import utcnow
from tests.support.archive import EMAIL, KEYS, OUTPUT, entry_fields, make_entry, raw, raw_rows
from tests.support.statements import statements


def test_an_archived_output_reads_back_byte_identical(session: Session) -> None:
    entry = make_entry(session, ai={"slots": {"opener": "Thanks, Ana!"}, "signed_off_by": "cx"})
    opened = read_entry(session, entry.id, actor="aud@example.com", keys=KEYS)
    assert opened.state == "readable" and opened.intact
    assert opened.output == OUTPUT
    assert opened.recipient == {"key": EMAIL, "to": {"email": EMAIL, "name": "Ana Lopez"}}
    assert opened.data == {"order_id": "A-1001", "first_name": "Ana", "total": "42.50"}
    assert opened.ai == {"slots": {"opener": "Thanks, Ana!"}, "signed_off_by": "cx"}


def test_the_data_digest_is_sha256_of_the_canonical_json(session: Session) -> None:
    entry = make_entry(session, data={"b": "é", "a": 1})
    canonical = json.dumps({"a": 1, "b": "é"}, separators=(",", ":"), ensure_ascii=False)
    assert entry.data_digest == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_no_stored_row_holds_the_recipient_the_data_or_the_output(session: Session) -> None:
    entry = make_entry(session)
    add_delivery_event(
        session,
        message_id=entry.message_id,
        kind="bounced",
        at=utcnow(),
        provider="sendgrid",
        detail={"email": EMAIL, "reason": "mailbox of Ana Lopez is full"},
        keys=KEYS,
    )
    seal_archive(session)
    stored = b"".join(
        raw_rows(session, table)
        for table in (
            "archive_entries",
            "archive_payloads",
            "archive_events",
            "archive_subject_keys",
        )
    )
    for secret in (EMAIL, "ana.lopez", "Ana Lopez", "A-1001", "42.50", "confirmed", "mailbox"):
        assert secret.encode() not in stored, secret
    assert entry.template.encode() in stored  # what is meant to be clear is there


def test_reading_an_entry_is_audited(session: Session) -> None:
    entry = make_entry(session)
    read_entry(session, entry.id, actor="aud@example.com", keys=KEYS)
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.read")).one()
    assert (audited.actor, audited.target) == ("aud@example.com", str(entry.id))


def test_a_message_is_archived_once(session: Session) -> None:
    make_entry(session, 7)
    with pytest.raises(AlreadyArchived):
        make_entry(session, 7)


def test_events_are_kept_with_their_entry_and_sealed(session: Session) -> None:
    entry = make_entry(session)
    for kind in ("delivered", "opened"):
        add_delivery_event(
            session,
            message_id=entry.message_id,
            kind=kind,
            at=utcnow(),
            provider="sendgrid",
            detail={"ip": "203.0.113.9"},
            keys=KEYS,
        )
    seal_archive(session)
    events = read_entry(session, entry.id, actor="a", keys=KEYS).events
    assert [(e["kind"], e["detail"], e["sealed"]) for e in events] == [
        ("delivered", {"ip": "203.0.113.9"}, True),
        ("opened", {"ip": "203.0.113.9"}, True),
    ]


def test_an_event_for_a_message_never_archived_is_refused(session: Session) -> None:
    with pytest.raises(EntryNotFound):
        add_delivery_event(
            session, message_id="nope", kind="delivered", at=utcnow(), provider="x", detail={}
        )


def find(session: Session, **filters: Any) -> tuple[list[ArchiveEntry], int]:
    return search(session, ArchiveFilters(**filters), actor="aud@example.com", keys=KEYS)


def test_search_finds_a_recipients_entries_without_their_address(session: Session) -> None:
    make_entry(session, 1)
    make_entry(session, 2, recipient_key="bo@example.com", recipient={"email": "bo@example.com"})
    make_entry(session, 3, channel="sms", template="otp", content_type="text/plain; charset=utf-8")
    found, total = find(session, recipient=EMAIL)
    assert total == 2 and [e.message_id for e in found] == ["msg-000003", "msg-000001"]
    found, total = find(session, recipient=EMAIL, channel="sms")
    assert [e.template for e in found] == ["otp"]
    assert find(session, template="order-confirmation")[1] == 2
    assert find(session, until=found[0].sent_at)[1] == 2


def test_a_search_is_audited_with_its_filters_and_the_recipient_only_hashed(
    session: Session,
) -> None:
    make_entry(session, 1)
    make_entry(session, 2)
    make_entry(session, 3, recipient_key="bo@example.com")
    search(session, ArchiveFilters(recipient=EMAIL), actor="aud@example.com", limit=1, keys=KEYS)
    find(session, channel="sms")
    audited = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "archive.search").order_by(AuditEntry.id)
    ).all()
    assert [a.actor for a in audited] == ["aud@example.com", "aud@example.com"]
    by_recipient, by_channel = audited
    assert by_recipient.detail == {
        "filters": {"recipient": KEYS.lookup(EMAIL)},
        "results": 2,
        "offset": 0,
        "shown": 1,
    }
    assert by_channel.detail["filters"] == {"channel": "sms"}
    assert by_channel.detail["results"] == 0
    for entry in audited:
        assert EMAIL not in entry.target and EMAIL not in json.dumps(entry.detail)


def test_erasure_makes_entries_unreadable_and_the_archive_still_verifies(
    session: Session,
) -> None:
    first, second = make_entry(session, 1), make_entry(session, 2)
    other = make_entry(session, 3, recipient_key="bo@example.com")
    seal_archive(session)
    assert erase_recipient(session, EMAIL, actor="dpo@example.com", keys=KEYS) == 2
    for entry in (first, second):
        opened = read_entry(session, entry.id, actor="a", keys=KEYS)
        assert (opened.state, opened.output, opened.data, opened.intact) == (
            "erased",
            None,
            None,
            True,
        )
    assert read_entry(session, other.id, actor="a", keys=KEYS).output == OUTPUT
    assert verify_archive(session).ok
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.erase")).one()
    assert audited.detail["entries"] == 2 and EMAIL not in audited.target


def test_a_recipient_archived_again_after_erasure_gets_a_new_key(session: Session) -> None:
    make_entry(session, 1)
    erase_recipient(session, EMAIL, actor="dpo", keys=KEYS)
    later = make_entry(session, 2)
    assert read_entry(session, later.id, actor="a", keys=KEYS).output == OUTPUT
    assert erase_recipient(session, EMAIL, actor="dpo", keys=KEYS) == 1


def test_outputs_archived_together_share_their_subjects_keys_and_read_back(
    session: Session,
) -> None:
    make_entry(session, 1)  # Ana already has a key
    bo = "bo@example.com"
    outputs = [
        Output(**entry_fields(2)),
        Output(**entry_fields(3, recipient_key=bo, recipient={"email": bo})),
        Output(**entry_fields(4, recipient_key=bo, recipient={"email": bo}, output=b"x")),
    ]
    entries = archive_outputs(session, outputs, KEYS)
    assert [e.message_id for e in entries] == ["msg-000002", "msg-000003", "msg-000004"]
    keys = session.scalars(select(SubjectKey.lookup)).all()
    assert len(keys) == len(set(keys)) == 2  # Ana's kept, one made for Bo
    assert entries[1].subject_key_id == entries[2].subject_key_id != entries[0].subject_key_id
    opened = [read_entry(session, e.id, actor="aud", keys=KEYS) for e in entries]
    assert [o.output for o in opened] == [OUTPUT, OUTPUT, b"x"]
    assert opened[2].recipient == {"key": bo, "to": {"email": bo}}
    assert verify_archive(session).ok
    assert erase_recipient(session, bo, actor="dpo", keys=KEYS) == 2


def test_a_batch_is_archived_in_five_statements_whatever_its_size(session: Session) -> None:
    make_entry(session)
    recipient_lookup(session, KEYS, EMAIL)  # the archive's lookup key settled, as in a worker
    outputs = [
        Output(**entry_fields(n, recipient_key=f"c{n}@example.com", recipient={"email": "x"}))
        for n in range(2, 42)
    ]
    with statements(session) as seen:
        ids = record_outputs(session, outputs, KEYS)
    # The subjects' keys read and made, the retention policy, the entries, their payloads.
    assert len(seen) == 5, seen
    stored = session.execute(select(ArchiveEntry.id, ArchiveEntry.message_id)).all()
    assert dict(zip(ids, [o.message_id for o in outputs], strict=True)).items() <= set(stored)
    opened = read_entry(session, ids[7], actor="aud", keys=KEYS)
    assert opened.recipient == {"key": "c9@example.com", "to": {"email": "x"}} and opened.intact
    assert verify_archive(session).ok


def test_erasure_is_refused_while_the_recipient_is_on_legal_hold(session: Session) -> None:
    entry = make_entry(session)
    place_hold(session, entry_id=entry.id, reason="claim 7", actor="legal", keys=KEYS)
    with pytest.raises(OnLegalHold):
        erase_recipient(session, EMAIL, actor="dpo", keys=KEYS)


def test_another_master_key_cannot_open_entries(session: Session) -> None:
    entry = make_entry(session)
    stranger = Keyring.from_master(b"\x01" * 32)
    with pytest.raises(ArchiveKeyError):
        read_entry(session, entry.id, actor="a", keys=stranger)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "UPDATE archive_entries SET template = 'forged' WHERE id = :id",
            "does not match its seal",
        ),
        (
            "UPDATE archive_entries SET provider_message_id = 'x' WHERE id = :id",
            "does not match its seal",
        ),
        (
            "UPDATE archive_payloads SET output = recipient WHERE entry_id = :id",
            "does not match its payload digest",
        ),
        (
            "UPDATE archive_events SET kind = 'delivered' WHERE archive_entry_id = :id",
            "has an event that does not match its seal",
        ),
    ],
)
def test_verify_names_the_entry_changed_with_raw_sql(
    session: Session, sql: str, reason: str
) -> None:
    entries = [make_entry(session, n) for n in range(1, 5)]
    target = entries[2]
    add_delivery_event(
        session,
        message_id=target.message_id,
        kind="bounced",
        at=utcnow(),
        provider="sendgrid",
        detail={},
        keys=KEYS,
    )
    seal_archive(session, batch_size=2)
    assert verify_archive(session).ok
    raw(session, sql, id=target.id)
    result = verify_archive(session)
    assert (result.ok, result.first_bad_entry, result.reason) == (False, target.id, reason)
    session.expire_all()
    assert not is_intact(session, session.get_one(type(target), target.id))
    assert is_intact(session, session.get_one(type(target), entries[0].id))


def test_verify_counts_entries_events_payloads_and_seals(session: Session) -> None:
    for n in range(1, 4):
        make_entry(session, n)
    add_delivery_event(
        session,
        message_id="msg-000001",
        kind="delivered",
        at=utcnow(),
        provider="p",
        detail={},
        keys=KEYS,
    )
    assert seal_archive(session, batch_size=2) == 4
    result = verify_archive(session)
    assert (result.ok, result.entries, result.events, result.payloads, result.seals) == (
        True,
        3,
        1,
        3,
        3,
    )
