"""The `hcs` command, end to end against a database of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hcs.cli import main
from templates_store.models import Template, TemplateVersion
from templates_store.status import Status
from tests.support.databases import committed_session


def _hcs(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HCS_DATABASE_URL": url})
    return result.exit_code, result.output


def test_export_import_export_gives_identical_files(
    fresh_database_url: str, tmp_path: Path
) -> None:
    first_db, second_db = fresh_database_url, f"sqlite:///{tmp_path / 'second.db'}"
    assert _hcs(first_db, "init", "--demo")[0] == 0
    assert _hcs(first_db, "templates", "export", str(tmp_path / "one"))[0] == 0
    assert _hcs(second_db, "db", "upgrade")[0] == 0
    code, output = _hcs(second_db, "templates", "import", str(tmp_path / "one"))
    assert code == 0 and "8 drafts created" in output
    assert _hcs(second_db, "templates", "export", str(tmp_path / "two"))[0] == 0
    one = {
        p.relative_to(tmp_path / "one"): p.read_bytes()
        for p in (tmp_path / "one").rglob("*")
        if p.is_file()
    }
    two = {
        p.relative_to(tmp_path / "two"): p.read_bytes()
        for p in (tmp_path / "two").rglob("*")
        if p.is_file()
    }
    assert one == two and len(one) > 20
    with committed_session(second_db) as session:
        statuses = set(session.scalars(select(TemplateVersion.status)))
    assert statuses == {Status.DRAFT}


def test_init_loads_the_demo_set_once(fresh_database_url: str) -> None:
    assert "loaded" in _hcs(fresh_database_url, "init", "--demo")[1]
    assert "already loaded" in _hcs(fresh_database_url, "init", "--demo")[1]
    with committed_session(fresh_database_url) as session:
        assert session.scalar(select(func.count()).select_from(Template)) == 4


def test_downgrade_to_base_and_upgrade_again(fresh_database_url: str) -> None:
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0
    assert _hcs(fresh_database_url, "db", "downgrade", "base")[0] == 0
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("templates", "import", "/nonexistent/folder"), "is not a directory"),
        (("db", "downgrade", "no-such-revision"), "no-such-revision"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    fresh_database_url: str, args: tuple[str, ...], message: str
) -> None:
    _hcs(fresh_database_url, "db", "upgrade")
    code, output = _hcs(fresh_database_url, *args)
    assert code == 1
    assert output.startswith("Error: ") and message in output
    assert len(output.strip().splitlines()) == 1
