"""Erasure under legal hold is recorded and deferred, then carried out when the hold is released."""

from __future__ import annotations

from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory, transaction
from tests.support.archive import EMAIL, make_entry
from tests.support.archive_cli import KEYS, entry_id, hcs_cli


def _two_entries(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            make_entry(session, 1, keys=KEYS)
            make_entry(session, 2, keys=KEYS)
    finally:
        engine.dispose()


def _actions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            query = select(AuditEntry.action).where(AuditEntry.action.like("archive.erase%"))
            return list(session.scalars(query.order_by(AuditEntry.id)))
    finally:
        engine.dispose()


def test_an_erasure_under_hold_is_deferred_listed_and_done_on_release(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    _two_entries(url)
    assert hcs_cli(url, "archive", "erasures")[1].strip() == "no erasure requests"
    held = entry_id(url, "msg-000001")
    assert hcs_cli(url, "archive", "hold", "--entry", str(held), "--reason", "claim 7")[0] == 0
    code, output = hcs_cli(url, "archive", "erase", "--recipient", EMAIL)
    assert code == 0 and output.startswith("erasure 1 deferred: entries of this recipient")
    [line] = hcs_cli(url, "archive", "erasures")[1].strip().splitlines()
    assert line.split()[0] == "1" and " deferred " in f"{line} " and EMAIL not in line
    code, output = hcs_cli(url, "archive", "rerender", str(held))  # still readable while held
    assert "unreadable" not in output
    assert _actions(url) == ["archive.erase_deferred"]
    assert hcs_cli(url, "archive", "release", "--entry", str(held))[0] == 0
    [line] = hcs_cli(url, "archive", "erasures")[1].strip().splitlines()
    assert " done " in line and line.endswith("2 entries")
    assert _actions(url) == ["archive.erase_deferred", "archive.erase"]
    assert hcs_cli(url, "archive", "verify")[0] == 0


def test_an_erasure_without_a_hold_is_done_at_once_and_listed(fresh_database_url: str) -> None:
    url = fresh_database_url
    _two_entries(url)
    assert hcs_cli(url, "archive", "erase", "--recipient", EMAIL)[1].strip() == (
        "2 entries became unreadable"
    )
    [line] = hcs_cli(url, "archive", "erasures")[1].strip().splitlines()
    assert " done " in line and line.endswith("2 entries")


def test_every_address_of_one_person_is_erased_in_one_command(fresh_database_url: str) -> None:
    url = fresh_database_url
    _two_entries(url)
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            make_entry(session, 3, keys=KEYS, channel="sms", recipient_key="+447400123456")
    finally:
        engine.dispose()
    code, output = hcs_cli(
        url, "archive", "erase", "--recipient", EMAIL.upper(), "--recipient", "+447400123456"
    )
    assert code == 0 and output.splitlines() == [
        "2 entries became unreadable",
        "1 entries became unreadable",
    ]
    assert _actions(url) == ["archive.erase", "archive.erase"]
    code, output = hcs_cli(url, "archive", "erase", "--recipient", "not an @ address")
    assert code == 1 and len(output.strip().splitlines()) == 1
