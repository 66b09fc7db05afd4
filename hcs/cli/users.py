"""`hcs users`: people, their roles, and whether they may sign in."""

from __future__ import annotations

import getpass

import click

from hcs.cli import settings, unit_of_work
from hcs.identity import (
    ROLES,
    User,
    create_user,
    disable_user,
    enable_user,
    list_users,
    set_password,
    set_roles,
)
from hcs.identity.groups import change_groups
from hcs.identity.models import GROUPS
from hcs.identity.phones import is_verified, vouch_for_phone
from hcs.identity.users import set_phone

ROLE_HELP = f"Repeatable; one of {', '.join(ROLES)}."
GROUP_HELP = f"Repeatable; a reviewer group ({', '.join(GROUPS)}, or one an admin names)."


def cli_actor() -> str:
    """Who the audit log names for a command: the operating-system user at the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _line(user: User) -> str:
    state = "active" if user.is_active else "disabled"
    return f"{user.email}\t{','.join(user.roles)}\t{state}\t{user.name}"


@click.group()
def users() -> None:
    """People who sign in to the web editor or own API keys."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
@click.option("--password", help="Default: a generated one, printed once.")
@click.option("--name", default="", help="The person's name, for display.")
@click.option("--group", "groups", multiple=True, help=GROUP_HELP)
def create(
    email: str, roles: tuple[str, ...], password: str | None, name: str, groups: tuple[str, ...]
) -> None:
    """Add a person with one or more roles (and, for reviewers, their groups)."""
    with unit_of_work(settings()) as session:
        user, generated = create_user(
            session,
            email=email,
            roles=roles,
            password=password,
            name=name,
            groups=groups,
            actor=cli_actor(),
        )
    held = f"; groups {', '.join(user.groups)}" if user.groups else ""
    click.echo(f"created {user.email} ({', '.join(user.roles)}{held})")
    if generated:
        click.echo(f"password (shown once): {generated}")


@users.command("list")
def list_command() -> None:
    """Every person: email, roles, state, name."""
    with unit_of_work(settings()) as session:
        for user in list_users(session):
            click.echo(_line(user))


@users.command("roles")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
def roles_command(email: str, roles: tuple[str, ...]) -> None:
    """Replace a person's roles."""
    with unit_of_work(settings()) as session:
        user = set_roles(session, email, roles, actor=cli_actor())
    click.echo(f"{user.email}: {', '.join(user.roles)}")


@users.command("groups")
@click.argument("email")
@click.option("--add", "add", multiple=True, help="Repeatable; a group to join.")
@click.option("--remove", "remove", multiple=True, help="Repeatable; a group to leave.")
def groups_command(email: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Put a person into reviewer groups and take them out of others."""
    with unit_of_work(settings()) as session:
        user = change_groups(session, email, add=add, remove=remove, actor=cli_actor())
    click.echo(f"{user.email}: groups {', '.join(user.groups) or '(none)'}")


@users.command("disable")
@click.option("--email", required=True)
def disable(email: str) -> None:
    """Stop a person signing in; their API keys stop working too."""
    with unit_of_work(settings()) as session:
        user = disable_user(session, email, actor=cli_actor())
    click.echo(f"disabled {user.email}")


@users.command("enable")
@click.option("--email", required=True)
def enable(email: str) -> None:
    """Let a disabled person sign in again."""
    with unit_of_work(settings()) as session:
        user = enable_user(session, email, actor=cli_actor())
    click.echo(f"enabled {user.email}")


@users.command("phone")
@click.option("--email", required=True)
@click.option("--phone", required=True, help="E.164 (+447400123456); empty to clear.")
@click.option(
    "--verified",
    is_flag=True,
    help="Vouch that the person holds the number: mark it verified (audited).",
)
def phone_command(email: str, phone: str, verified: bool) -> None:
    """Set the person's own phone: where tests they send by SMS or chat go, once verified."""
    with unit_of_work(settings()) as session:
        if verified:
            user = vouch_for_phone(session, email, phone, actor=cli_actor())
        else:
            user = set_phone(session, email, phone, actor=cli_actor())
        state = "verified" if is_verified(user) else "not verified: they verify it on /account"
    click.echo(
        f"{user.email}: phone {user.phone or '(none)'}" + (f" ({state})" if user.phone else "")
    )


@users.command("password")
@click.option("--email", required=True)
@click.option("--password", help="Default: a generated one, printed once.")
def password_command(email: str, password: str | None) -> None:
    """Set a new password; the person's open web sessions end."""
    with unit_of_work(settings()) as session:
        generated = set_password(session, email, password, actor=cli_actor())
    click.echo(f"password changed for {email.strip().lower()}")
    if generated:
        click.echo(f"password (shown once): {generated}")
