"""`hcs archive`, end to end against a database of its own, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hcs.archive import Keyring
from hcs.infrastructure.db import make_engine, session_factory, transaction
from templates_store.orm import utcnow
from tests.support.archive import EMAIL, make_entry
from tests.support.archive_cli import KEYS, MASTER, entry_id, hcs_cli


def _execute(url: str, sql: str, **params: object) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


@pytest.fixture
def url(migrated_database_url: str) -> str:
    """A migrated database holding four entries: three to EMAIL (one an old marketing one)."""
    engine = make_engine(migrated_database_url)
    try:
        with transaction(session_factory(engine)) as session:
            for n in (1, 2):
                make_entry(session, n, keys=KEYS)
            make_entry(session, 3, keys=KEYS, recipient_key="bo@example.com")
            old = utcnow() - timedelta(days=400)
            make_entry(session, 4, keys=KEYS, category="marketing", sent_at=old)
    finally:
        engine.dispose()
    return migrated_database_url


def test_verify_seals_then_passes_with_counts(url: str) -> None:
    code, output = hcs_cli(url, "archive", "verify")
    assert code == 0 and output.strip() == ("4 entries, 0 events and 4 payloads verified, 1 seals")


def test_verify_names_the_first_entry_changed_with_raw_sql(url: str) -> None:
    assert hcs_cli(url, "archive", "verify")[0] == 0
    target = entry_id(url, "msg-000002")
    _execute(url, "UPDATE archive_entries SET version = 9 WHERE id = :id", id=target)
    code, output = hcs_cli(url, "archive", "verify")
    assert code == 1 and len(output.strip().splitlines()) == 1
    assert output.startswith(f"Error: archive entry {target} (order-confirmation v9 email")
    assert output.rstrip().endswith("does not match its seal")


def test_erase_prints_how_many_entries_became_unreadable_and_verify_passes(url: str) -> None:
    code, output = hcs_cli(url, "archive", "erase", "--recipient", EMAIL.upper())
    assert (code, output.strip()) == (0, "3 entries became unreadable")
    assert hcs_cli(url, "archive", "erase", "--recipient", EMAIL)[1].strip() == (
        "0 entries became unreadable"
    )
    assert hcs_cli(url, "archive", "verify")[0] == 0


def test_purge_honours_a_hold_until_it_is_released(url: str) -> None:
    old = entry_id(url, "msg-000004")
    assert hcs_cli(url, "archive", "hold", "--entry", str(old), "--reason", "claim 7")[0] == 0
    assert hcs_cli(url, "archive", "purge")[1].strip() == "0 entries purged"
    assert hcs_cli(url, "archive", "release", "--entry", str(old))[1].strip() == (
        "1 legal holds released"
    )
    assert hcs_cli(url, "archive", "purge")[1].strip() == "1 entries purged (marketing 1)"
    assert hcs_cli(url, "archive", "verify")[1].startswith("4 entries, 1 events and 3 payloads")


def test_a_hold_needs_an_entry_or_a_recipient(url: str) -> None:
    code, output = hcs_cli(url, "archive", "hold")
    assert code == 1 and output.startswith("Error: hold: name either one entry or one recipient")


def test_export_writes_a_zip_of_a_recipients_entries(url: str, tmp_path: Path) -> None:
    out = tmp_path / "evidence.zip"
    code, output = hcs_cli(url, "archive", "export", "--recipient", EMAIL, "--out", str(out))
    assert (code, output.strip()) == (0, f"3 entries exported to {out}")
    with zipfile.ZipFile(out) as archive:
        assert len(archive.read("entries.jsonl").splitlines()) == 3
        assert sum(name.endswith(".eml") for name in archive.namelist()) == 3


def test_another_master_key_is_refused_in_one_line(url: str, tmp_path: Path) -> None:
    out = tmp_path / "evidence.zip"
    code, output = hcs_cli(url, "archive", "export", "--out", str(out), master=b"\x02" * 32)
    assert code == 1 and output.startswith("Error: this key was wrapped under master key")


NEW_MASTER = hashlib.sha256(b"cli master, rotated").digest()


def test_rotate_key_rewraps_in_batches_then_the_old_key_can_go(url: str, tmp_path: Path) -> None:
    new_id = Keyring.from_master(NEW_MASTER).master_id
    rotate = ("archive", "rotate-key", "--batch-size", "1")
    code, output = hcs_cli(url, *rotate, master=NEW_MASTER, previous=(MASTER,))
    assert (code, output.strip()) == (0, f"2 subject keys re-wrapped under master key {new_id}")
    code, output = hcs_cli(url, *rotate, master=NEW_MASTER, previous=(MASTER,))
    assert (code, output.strip()) == (0, f"0 subject keys re-wrapped under master key {new_id}")
    # The old key is gone from the configuration: everything verifies, reads and is found.
    assert hcs_cli(url, "archive", "verify", master=NEW_MASTER)[0] == 0
    out = tmp_path / "evidence.zip"
    args = ("archive", "export", "--recipient", EMAIL, "--out", str(out))
    assert hcs_cli(url, *args, master=NEW_MASTER) == (0, f"3 entries exported to {out}\n")
    with zipfile.ZipFile(out) as archive:
        assert sum(name.endswith(".eml") for name in archive.namelist()) == 3
    # Rotated keys no longer open with the old master key alone.
    code, output = hcs_cli(url, "archive", "export", "--out", str(out))
    assert code == 1 and f"wrapped under master key {new_id}" in output


def test_rotate_key_without_the_old_key_exits_with_one_line(url: str, tmp_path: Path) -> None:
    code, output = hcs_cli(url, "archive", "rotate-key", master=NEW_MASTER)
    assert code == 1 and len(output.strip().splitlines()) == 1
    assert output.startswith(
        f"Error: 2 subject keys are wrapped under master key {KEYS.master_id}, which is not "
        "configured: add it to HCS_ARCHIVE_PREVIOUS_MASTER_KEYS"
    )
    # Nothing changed: the old key alone still opens every entry.
    out = tmp_path / "evidence.zip"
    args = ("archive", "export", "--recipient", EMAIL, "--out", str(out))
    assert hcs_cli(url, *args) == (0, f"3 entries exported to {out}\n")
