"""The audit log: recording in the caller's transaction, searching, and `hcs audit`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hcs.audit import AuditEntry, list_entries, record
from hcs.cli import main
from hcs.infrastructure.db import make_engine
from hcs.sealing import Seal
from tests.support.databases import committed_session


class Colour(Enum):
    RED = "red"


def _record(session: Session, **overrides: object) -> AuditEntry:
    fields: dict[str, object] = {
        "actor": "ana@example.com",
        "action": "version.approve",
        "target_type": "template_version",
        "target": "order-confirmation v3",
    }
    return record(session, **{**fields, **overrides})  # type: ignore[arg-type]


def test_record_appends_in_the_callers_transaction_without_committing(
    migrated_database_url: str,
) -> None:
    with committed_session(migrated_database_url) as session:
        entry = _record(session)
        assert entry.id is not None and entry.detail == {}
        session.rollback()
    with committed_session(migrated_database_url) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_record_stores_plain_json_that_hashes_the_same_when_read_back(session: Session) -> None:
    when = datetime(2026, 11, 23, 13, 0, tzinfo=UTC) + timedelta(hours=1)
    entry = _record(
        session,
        before={"status": "in_review", "due": when, "roles": {"legal", "brand"}},
        after={"status": "approved", "colour": Colour.RED, 3: Decimal("1.50")},
        detail={"comment": "Fine by legal", "stage": ("legal",)},
    )
    session.expire(entry)
    assert entry.before == {
        "status": "in_review",
        "due": "2026-11-23T14:00:00+00:00",
        "roles": ["brand", "legal"],
    }
    assert entry.after == {"status": "approved", "colour": "red", "3": "1.50"}
    assert entry.detail == {"comment": "Fine by legal", "stage": ["legal"]}
    assert entry.entry_hash == entry.compute_hash()


def test_list_entries_filters_pages_and_counts_newest_first(session: Session) -> None:
    first = _record(session, action="template.create", target="order-confirmation")
    second = _record(session, action="version.submit")
    third = _record(session, actor="apikey:ci", action="version.submit")
    _record(session, actor="system", action="user.create", target_type="user", target="bo")
    entries, total = list_entries(session, action="version.submit")
    assert (entries, total) == ([third, second], 2)
    assert list_entries(session, actor="apikey:ci") == ([third], 1)
    assert list_entries(session, target="order-confirmation") == ([first], 1)
    assert list_entries(session, target_type="user")[1] == 1
    page, total = list_entries(session, limit=2, offset=1)
    assert [e.id for e in page] == [third.id, second.id] and total == 4
    later = first.at + timedelta(seconds=1)
    assert list_entries(session, until=first.at)[1] == 0
    assert list_entries(session, since=first.at, until=later)[1] >= 1
    assert list_entries(session, since=later)[1] == 0


def _hcs(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HCS_DATABASE_URL": url})
    return result.exit_code, result.output


def _committed_entries(url: str, count: int) -> list[int]:
    with committed_session(url) as session, session.begin():
        ids = [_record(session, target=f"order-confirmation v{n}").id for n in range(count)]
    return ids


def test_audit_seal_seals_pending_entries_and_says_how_many(fresh_database_url: str) -> None:
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0
    _committed_entries(fresh_database_url, 3)
    assert _hcs(fresh_database_url, "audit", "seal", "--batch-size", "2") == (
        0,
        "3 entries sealed\n",
    )
    assert _hcs(fresh_database_url, "audit", "seal")[1] == "0 entries sealed\n"
    with committed_session(fresh_database_url) as session:
        assert session.scalar(select(func.count()).select_from(Seal)) == 2


def test_audit_verify_seals_then_verifies_an_untouched_log(fresh_database_url: str) -> None:
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0
    _committed_entries(fresh_database_url, 4)
    assert _hcs(fresh_database_url, "audit", "verify") == (0, "4 entries verified, 1 seals\n")
    _committed_entries(fresh_database_url, 1)
    assert _hcs(fresh_database_url, "audit", "verify") == (0, "5 entries verified, 2 seals\n")


def test_audit_verify_names_the_entry_someone_edited_in_the_database(
    fresh_database_url: str,
) -> None:
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0
    ids = _committed_entries(fresh_database_url, 5)
    assert _hcs(fresh_database_url, "audit", "seal")[0] == 0
    engine = make_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_entries SET actor = 'mallory@example.com' WHERE id = :id"),
                {"id": ids[2]},
            )
    finally:
        engine.dispose()
    code, output = _hcs(fresh_database_url, "audit", "verify")
    assert code == 1
    assert output == (
        f"Error: audit entry {ids[2]} (version.approve order-confirmation v2) "
        "does not match its seal\n"
    )
