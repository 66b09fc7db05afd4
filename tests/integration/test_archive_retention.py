"""Retention, legal hold and export: payloads purged past their period, chain still verifying."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.archive import (
    ArchiveFilters,
    add_delivery_event,
    erase_recipient,
    export_search,
    place_hold,
    purge,
    read_entry,
    release_hold,
    retention_policy,
    seal_archive,
    verify_archive,
)
from hcs.audit import AuditEntry
from hcs.errors import ValidationFailed
from templates_store.orm import utcnow
from tests.support.archive import EMAIL, KEYS, OUTPUT, make_entry, raw

PDF = b"%PDF-1.7\n\x00\xff binary letter for Ana Lopez\n%%EOF"


def _aged(session: Session, n: int, days: int, **overrides: object) -> int:
    sent = utcnow() - timedelta(days=days)
    return make_entry(session, n, sent_at=sent, **overrides).id


def test_the_default_policy_can_be_overridden_per_category() -> None:
    policy = retention_policy("marketing=30, letters=10")
    assert policy["marketing"] == timedelta(days=30)
    assert policy["transactional"] == timedelta(days=7 * 365 + 2)
    assert policy["letters"] == timedelta(days=10)
    with pytest.raises(ValidationFailed):
        retention_policy("marketing=soon")


def test_purge_drops_payloads_past_retention_and_the_chain_still_verifies(
    session: Session,
) -> None:
    old_marketing = _aged(session, 1, 400, category="marketing")
    young_marketing = _aged(session, 2, 100, category="marketing")
    old_transactional = _aged(session, 3, 400, category="transactional")
    add_delivery_event(
        session,
        message_id="msg-000001",
        kind="opened",
        at=utcnow(),
        provider="sendgrid",
        detail={"ip": "203.0.113.9"},
        keys=KEYS,
    )
    seal_archive(session)
    assert purge(session, actor="system") == {"marketing": 1}
    opened = read_entry(session, old_marketing, actor="a", keys=KEYS)
    assert (opened.state, opened.output, opened.intact) == ("purged", None, True)
    assert [(e["kind"], e["detail"]) for e in opened.events] == [("opened", None), ("purged", None)]
    for kept in (young_marketing, old_transactional):
        assert read_entry(session, kept, actor="a", keys=KEYS).output == OUTPUT
    result = verify_archive(session)
    assert result.ok and (result.entries, result.events, result.payloads) == (3, 2, 2)
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.purge")).one()
    assert audited.detail["by_category"] == {"marketing": 1}


def test_purge_honours_legal_hold_on_an_entry_and_on_a_recipient(session: Session) -> None:
    held = _aged(session, 1, 400, category="marketing")
    by_recipient = _aged(session, 2, 400, category="marketing", recipient_key="bo@example.com")
    free = _aged(session, 3, 400, category="marketing", recipient_key="cy@example.com")
    place_hold(session, entry_id=held, reason="claim 7", actor="legal", keys=KEYS)
    place_hold(session, recipient_key="bo@example.com", reason="audit", actor="legal", keys=KEYS)
    assert purge(session, actor="system") == {"marketing": 1}
    states = {
        i: read_entry(session, i, actor="a", keys=KEYS).state for i in (held, by_recipient, free)
    }
    assert states == {held: "readable", by_recipient: "readable", free: "purged"}
    assert release_hold(session, entry_id=held, actor="legal", keys=KEYS) == 1
    assert purge(session, actor="system") == {"marketing": 1}
    assert read_entry(session, held, actor="a", keys=KEYS).state == "purged"
    assert verify_archive(session).ok


def test_a_hold_names_one_entry_or_one_recipient(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        place_hold(session, actor="legal", keys=KEYS)


def test_an_export_holds_one_json_line_per_entry_and_each_output_as_a_file(
    session: Session,
) -> None:
    email = make_entry(session, 1)
    letter = make_entry(session, 2, channel="letter", output=PDF, content_type="application/pdf")
    other = make_entry(session, 3, recipient_key="bo@example.com")
    erased = make_entry(session, 4, recipient_key="cy@example.com")
    erase_recipient(session, "cy@example.com", actor="dpo", keys=KEYS)
    out = io.BytesIO()
    filters = ArchiveFilters(template="order-confirmation")
    assert export_search(session, filters, out, actor="aud@example.com", keys=KEYS) == 4
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        names = set(archive.namelist())
        lines = [json.loads(line) for line in archive.read("entries.jsonl").splitlines()]
        assert archive.read(f"{email.id}.eml") == OUTPUT
        assert archive.read(f"{letter.id}.pdf") == PDF
    assert names == {"entries.jsonl", f"{email.id}.eml", f"{letter.id}.pdf", f"{other.id}.eml"}
    by_id = {line["id"]: line for line in lines}
    assert by_id[email.id]["recipient"]["to"]["email"] == EMAIL
    assert by_id[email.id]["file"] == f"{email.id}.eml" and by_id[email.id]["intact"]
    assert by_id[erased.id]["erased"] is True and "file" not in by_id[erased.id]
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.export")).one()
    assert audited.detail["entries"] == 4


def test_an_export_of_a_recipients_entries_does_not_audit_their_address(
    session: Session,
) -> None:
    make_entry(session, 1)
    out = io.BytesIO()
    assert export_search(session, ArchiveFilters(recipient=EMAIL), out, actor="a", keys=KEYS) == 1
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "archive.export")).one()
    assert EMAIL not in json.dumps(audited.detail) and EMAIL not in audited.target


def test_a_payload_deleted_without_a_purge_is_named_by_verify(session: Session) -> None:
    entries = [make_entry(session, n) for n in (1, 2, 3)]
    seal_archive(session)
    raw(session, "DELETE FROM archive_payloads WHERE entry_id = :id", id=entries[1].id)
    result = verify_archive(session)
    assert (result.ok, result.first_bad_entry, result.reason) == (
        False,
        entries[1].id,
        "has no payload and no purge recorded",
    )
    session.expire_all()
    assert not read_entry(session, entries[1].id, actor="a", keys=KEYS).intact
