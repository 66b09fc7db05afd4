"""`hcs users`, `hcs apikeys` and the admin `hcs init` makes, end to end."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.identity import authenticate_key, authenticate_password, get_user, list_users
from tests.support.databases import committed_session


def _hcs(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HCS_DATABASE_URL": url})
    return result.exit_code, result.output


@pytest.fixture
def url(fresh_database_url: str) -> str:
    assert _hcs(fresh_database_url, "db", "upgrade")[0] == 0
    return fresh_database_url


def test_init_creates_an_admin_once_and_prints_the_login(fresh_database_url: str) -> None:
    code, output = _hcs(fresh_database_url, "init")
    assert code == 0
    found = re.search(r"sign in as (\S+) with password (\S+)", output)
    assert found
    assert "already present" in _hcs(fresh_database_url, "init")[1]
    with committed_session(fresh_database_url) as session:
        admin = authenticate_password(session, found[1], found[2])
        assert admin.roles == ["admin"] and len(list_users(session)) == 1


def test_a_user_created_without_a_password_gets_one_printed_once(url: str) -> None:
    code, output = _hcs(
        url,
        "users",
        "create",
        "--email",
        "Ana@Example.com",
        "--role",
        "author",
        "--role",
        "reviewer",
        "--name",
        "Ana",
    )
    assert code == 0 and "created ana@example.com (author, reviewer)" in output
    password = re.search(r"password \(shown once\): (\S+)", output)[1]  # type: ignore[index]
    listing = _hcs(url, "users", "list")[1]
    assert "ana@example.com\tauthor,reviewer\tactive\tAna" in listing and password not in listing
    with committed_session(url) as session:
        assert authenticate_password(session, "ana@example.com", password).name == "Ana"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
        assert entry.actor.startswith("cli")


def test_roles_disable_and_enable(url: str) -> None:
    _hcs(
        url,
        "users",
        "create",
        "--email",
        "lee@example.com",
        "--role",
        "author",
        "--password",
        "a long passphrase",
    )
    assert _hcs(url, "users", "roles", "--email", "lee@example.com", "--role", "signoff")[0] == 0
    assert _hcs(url, "users", "disable", "--email", "lee@example.com")[0] == 0
    assert "lee@example.com\tsignoff\tdisabled" in _hcs(url, "users", "list")[1]
    assert _hcs(url, "users", "enable", "--email", "lee@example.com")[0] == 0
    code, output = _hcs(url, "users", "password", "--email", "lee@example.com")
    new_password = re.search(r"password \(shown once\): (\S+)", output)[1]  # type: ignore[index]
    with committed_session(url) as session:
        assert authenticate_password(session, "lee@example.com", new_password).is_active
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["user.create", "user.roles", "user.disable", "user.enable", "user.password"]


def test_a_key_is_printed_once_listed_without_it_and_revoked(url: str) -> None:
    _hcs(url, "users", "create", "--email", "lee@example.com", "--role", "reviewer")
    code, output = _hcs(
        url,
        "apikeys",
        "create",
        "--name",
        "lee-cli",
        "--scopes",
        "review, read",
        "--user",
        "lee@example.com",
    )
    assert code == 0 and "created API key lee-cli (read, review)" in output
    key = re.search(r"store it now\): (\S+)", output)[1]  # type: ignore[index]
    assert _hcs(url, "apikeys", "create", "--name", "shop", "--scopes", "send,read")[0] == 0
    listing = _hcs(url, "apikeys", "list")[1]
    assert key not in listing and key.split("_")[1] in listing
    assert "lee-cli\t" in listing and "lee@example.com\tnever used" in listing
    assert "shop\t" in listing and "\tsystem\t" in listing
    with committed_session(url) as session:
        assert authenticate_key(session, key).may("reviewer", "review")
    assert _hcs(url, "apikeys", "revoke", "--name", "lee-cli")[0] == 0
    assert "revoked" in _hcs(url, "apikeys", "list")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "create", "--email", "x@example.com", "--role", "boss"), "unknown role boss"),
        (("users", "create", "--email", "not-an-email", "--role", "author"), "email:"),
        (("users", "disable", "--email", "ghost@example.com"), "no user ghost@example.com"),
        (("apikeys", "create", "--name", "k", "--scopes", "fly"), "unknown scope fly"),
        (("apikeys", "create", "--name", "k", "--scopes", "review"), "need a person"),
        (("apikeys", "create", "--name", "k", "--scopes", "read", "--user", "no@x.com"), "no user"),
        (("apikeys", "revoke", "--name", "missing"), "no API key missing"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    url: str, args: tuple[str, ...], message: str
) -> None:
    code, output = _hcs(url, *args)
    assert code == 1
    assert output.startswith("Error: ") and message in output
    assert len(output.strip().splitlines()) == 1


def test_a_duplicate_user_is_refused_and_nothing_changes(url: str) -> None:
    args = ("users", "create", "--email", "dup@example.com", "--role", "author")
    assert _hcs(url, *args)[0] == 0
    code, output = _hcs(url, *args)
    assert code == 1 and "already exists" in output
    with committed_session(url) as session:
        assert len(list_users(session)) == 1


def test_reviewer_groups_are_given_at_creation_and_changed_by_name(url: str) -> None:
    code, output = _hcs(
        url, "users", "create", "--email", "lee@example.com", "--role", "reviewer",
        "--group", "legal", "--group", "brand",
    )  # fmt: skip
    assert code == 0, output
    code, output = _hcs(
        url, "users", "groups", "lee@example.com", "--add", "security", "--remove", "brand"
    )
    assert code == 0 and "legal, security" in output
    code, output = _hcs(url, "users", "groups", "lee@example.com", "--add", "Bad Group")
    assert code != 0 and "group" in output.lower() and len(output.strip().splitlines()) == 1
    with committed_session(url) as session:
        assert get_user(session, "lee@example.com").groups == ["legal", "security"]
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions.count("user.groups") == 1


def test_a_persons_phone_is_set_as_e164_refused_when_not_a_number_and_cleared_when_empty(
    url: str,
) -> None:
    _hcs(url, "users", "create", "--email", "max@example.com", "--role", "author")
    code, output = _hcs(url, "users", "phone", "--email", "max@example.com", "--phone", "12")
    assert code == 1 and output.startswith("Error: ") and len(output.strip().splitlines()) == 1
    phone = "+44 7400 123456"
    code, output = _hcs(url, "users", "phone", "--email", "max@example.com", "--phone", phone)
    assert code == 0 and "+447400123456" in output
    with committed_session(url) as session:
        assert get_user(session, "max@example.com").phone == "+447400123456"
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.phone"))
        assert [e.target for e in logged] == ["max@example.com"]
    assert _hcs(url, "users", "phone", "--email", "max@example.com", "--phone", "")[0] == 0
    with committed_session(url) as session:
        assert get_user(session, "max@example.com").phone is None
