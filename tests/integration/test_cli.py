"""The `hcs` command, end to end against a database of its own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hcs.cli import main, served_at
from hcs.infrastructure.config import load_settings
from templates_store.models import Template, TemplateVersion
from templates_store.status import Status
from tests.support.databases import committed_session
from tests.support.world import settings_for


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
    assert code == 0 and "11 drafts created" in output
    # The second database holds drafts only: exported when asked for.
    assert _hcs(second_db, "templates", "export", str(tmp_path / "none"))[0] == 0
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())
    two = str(tmp_path / "two")
    assert _hcs(second_db, "templates", "export", two, "--include-drafts")[0] == 0
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
        assert session.scalar(select(func.count()).select_from(Template)) == 6


def test_init_demo_prints_one_login_per_role_once_and_each_one_signs_in(
    fresh_database_url: str,
) -> None:
    from hcs.http.app import create_app

    first = _hcs(fresh_database_url, "init", "--demo")[1]
    logins = dict(re.findall(r"sign in as (\S+) with password (\S+) \(shown once\)", first))
    roles = re.findall(r"^([a-z/]+): sign in as", first, re.M)
    assert sorted(roles) == ["admin", "auditor", "author", "reviewer", "reviewer", "signoff"]
    assert {"legal.reviewer@hcs.example", "brand.reviewer@hcs.example"} <= set(logins)
    assert "sign in as" not in _hcs(fresh_database_url, "init", "--demo")[1]  # never again
    app = create_app(settings_for(fresh_database_url))
    try:
        for email, password in logins.items():
            client = app.test_client()
            token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)
            assert token, email
            form = {"email": email, "password": password, "csrf_token": token[1]}
            assert client.post("/login", data=form).status_code == 302, email
    finally:
        app.extensions["hcs"].engine.dispose()  # no connection left for the next test
    with committed_session(fresh_database_url) as session:
        published = {
            t.key
            for t in session.scalars(select(Template))
            if any(v.status == Status.PUBLISHED for v in t.versions)
        }
    assert "delivery-delay" in published  # the AI template, with its disclosure block


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


def test_help_loads_none_of_the_heavy_libraries() -> None:
    """`hcs --help` and light commands answer fast: PDF, AI, Alembic and Celery load on use."""
    probe = (
        "import sys; from hcs.cli import main; main(['--help'], standalone_mode=False);"
        "print(sorted(m for m in ('weasyprint', 'openai', 'alembic', 'celery', 'flask_smorest')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("host", "port", "public"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("0.0.0.0", 5001, "http://127.0.0.1:5001"),
        ("::1", 5002, "http://[::1]:5002"),
    ],
)
def test_links_follow_the_served_port_unless_the_public_url_is_set(
    host: str, port: int, public: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HCS_PUBLIC_URL", raising=False)
    assert served_at(load_settings(None), host, port).public_url == public
    monkeypatch.setenv("HCS_PUBLIC_URL", "https://hcs.example.com")
    assert served_at(load_settings(None), host, port).public_url == "https://hcs.example.com"
