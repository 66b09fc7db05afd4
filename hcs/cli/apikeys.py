"""`hcs apikeys`: keys for systems and for people, shown once, stored hashed."""

from __future__ import annotations

import click

from hcs.cli import settings, unit_of_work
from hcs.cli.users import cli_actor
from hcs.identity import ApiKey, create_api_key, list_api_keys, revoke_api_key


def _when(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
    if key.last_used_at is not None:
        return f"last used {key.last_used_at:%Y-%m-%d %H:%M}"
    return "never used"


def _line(key: ApiKey) -> str:
    owner = key.user.email if key.user else "system"
    test = "\ttest" if key.is_test else ""
    return f"{key.name}\t{key.prefix}\t{','.join(key.scopes)}\t{owner}\t{_when(key)}{test}"


@click.group()
def apikeys() -> None:
    """API keys: scoped, revocable, shown only when made."""


@apikeys.command("create")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help="Comma-separated: send,read,templates,...")
@click.option("--user", "user_email", help="The key acts as this person (their roles).")
@click.option("--test", "is_test", is_flag=True, help="Its messages never reach a provider.")
def create(name: str, scopes: str, user_email: str | None, is_test: bool) -> None:
    """Make a key and print it once; only its hash is kept."""
    wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    with unit_of_work(settings()) as session:
        key, plaintext = create_api_key(
            session,
            name=name,
            scopes=wanted,
            user_email=user_email,
            actor=cli_actor(),
            is_test=is_test,
        )
    kind = "test API key" if is_test else "API key"
    click.echo(f"created {kind} {key.name} ({', '.join(key.scopes)})")
    click.echo(f"key (shown once, store it now): {plaintext}")


@apikeys.command("list")
def list_command() -> None:
    """Every key: name, public prefix, scopes, owner, last use (never the key)."""
    with unit_of_work(settings()) as session:
        for key in list_api_keys(session):
            click.echo(_line(key))


@apikeys.command("revoke")
@click.option("--name", required=True)
def revoke(name: str) -> None:
    """Stop a key from authenticating, for good."""
    with unit_of_work(settings()) as session:
        key = revoke_api_key(session, name, actor=cli_actor())
    click.echo(f"revoked API key {key.name}")
