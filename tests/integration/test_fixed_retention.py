"""Retention fixed when an entry is archived: no later policy nor forged purge can reach it."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from hcs.archive import ArchiveEntry, ArchiveEvent, ArchivePayload
from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory, transaction
from templates_store.orm import utcnow
from tests.support.archive import make_entry
from tests.support.archive_cli import MASTER, b64

SEVEN_YEARS = timedelta(days=7 * 365 + 2)


def hcs_cli(url: str, *args: str, **env: str) -> tuple[int, str]:
    env = {"HCS_DATABASE_URL": url, "HCS_ARCHIVE_MASTER_KEY": b64(MASTER), **env}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def _archive(url: str, n: int, **overrides: object) -> int:
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            return make_entry(session, n, **overrides).id
    finally:
        engine.dispose()


def _sql(url: str, work: object) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            work(connection)  # type: ignore[operator]
    finally:
        engine.dispose()


def test_each_entry_keeps_the_retention_in_force_when_it_was_archived(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    migrate.upgrade(url)
    kept = _archive(url, 1)  # transactional: seven years, fixed now
    assert hcs_cli(url, "archive", "seal")[0] == 0
    # The environment no longer decides, however short it says.
    shortened = {"HCS_ARCHIVE_RETENTION": "transactional=0"}
    assert hcs_cli(url, "archive", "purge", **shortened)[1].strip() == "0 entries purged"
    # Nor does an admin's new, shorter policy: it applies to what is archived after it.
    code, output = hcs_cli(url, "archive", "retention", "transactional", "0")
    assert code == 0 and "from now on" in output
    later = _archive(url, 2, sent_at=utcnow() - timedelta(seconds=5))
    assert hcs_cli(url, "archive", "purge")[1].strip() == "1 entries purged (transactional 1)"
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            first, second = (session.get(ArchiveEntry, i) for i in (kept, later))
            assert first and second and first.retain_until and second.retain_until
            assert first.retain_until == first.sent_at + SEVEN_YEARS
            assert second.retain_until == second.sent_at
            changed = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "archive.retention")
            ).one()
            assert (changed.before, changed.after) == ({"days": 7 * 365 + 2}, {"days": 0})
    finally:
        engine.dispose()
    assert hcs_cli(url, "archive", "verify")[0] == 0


def _forge_purge(url: str, entry_id: int, days_from_now: float) -> None:
    """Delete a payload and write the `purged` event retention would have written."""
    at = utcnow() + timedelta(days=days_from_now)
    values = {
        "archive_entry_id": entry_id,
        "kind": "purged",
        "at": at,
        "provider": "hcs",
        "detail": None,
        "recorded_at": at,
    }
    table = ArchiveEvent.__table__

    payloads = ArchivePayload.__table__

    def forge(connection: object) -> None:
        gone = payloads.delete().where(payloads.c.entry_id == entry_id)
        connection.execute(gone)  # type: ignore[attr-defined]
        forged = table.insert().values(entry_hash=ArchiveEvent.hash_values(values), **values)
        connection.execute(forged)  # type: ignore[attr-defined]

    _sql(url, forge)


def test_a_forged_purge_of_a_payload_still_within_retention_is_named_by_verify(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    migrate.upgrade(url)
    entries = [_archive(url, n) for n in (1, 2, 3)]
    assert hcs_cli(url, "archive", "seal")[0] == 0
    # A purge dated after the retention date would have to lie in the future.
    _forge_purge(url, entries[2], SEVEN_YEARS.days + 1)
    code, output = hcs_cli(url, "archive", "verify")  # seals the forged event first
    assert code == 1 and f"archive entry {entries[2]} " in output
    assert "has no payload, and no purge dated between" in output
    # One dated today, well before the entry's sealed retention date.
    _forge_purge(url, entries[1], 0)
    code, output = hcs_cli(url, "archive", "verify")
    assert code == 1 and f"archive entry {entries[1]} " in output


def test_a_retention_for_an_unknown_category_is_refused_in_one_line(
    fresh_database_url: str,
) -> None:
    migrate.upgrade(fresh_database_url)
    code, output = hcs_cli(fresh_database_url, "archive", "retention", "newsletters", "30")
    assert code == 1 and "category" in output and len(output.strip().splitlines()) == 1
