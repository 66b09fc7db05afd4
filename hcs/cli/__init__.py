"""The `hcs` command: set-up, serving and migrations; each command group has its own module."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import click
from sqlalchemy.orm import Session

import hcs.schema  # noqa: F401  (every table mapped before the first query)
from hcs.errors import DomainError
from hcs.infrastructure.config import Settings, load_settings, pool
from hcs.infrastructure.db import make_engine, session_factory, transaction
from hcs.infrastructure.logs import configure_logging


@contextmanager
def unit_of_work(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            yield session
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()


def settings() -> Settings:
    """The settings of this invocation, read from the environment once."""
    found: Settings = (
        click.get_current_context().ensure_object(dict).setdefault("settings", load_settings())
    )
    return found


@click.group()
def main() -> None:
    """HCS: governed customer communications."""


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo templates (once).")
def init(demo: bool) -> None:
    """Migrate the database, then load the demo set when asked."""
    from hcs.archive import seed_retention
    from hcs.cli import seeding
    from hcs.infrastructure import migrate

    current = settings()
    migrate.upgrade(current.database_url)
    with unit_of_work(current) as session:
        for line in seeding.initialise(session, demo=demo):
            click.echo(line)
        if seed_retention(session, current.archive_retention, actor="hcs init"):
            click.echo(f"archive retention: {current.archive_retention} (HCS_ARCHIVE_RETENTION)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the web app and the API; with no broker, dispatch on an in-process worker too."""
    from waitress import serve

    from hcs.http.app import create_app
    from hcs.worker.lanes import LANES
    from hcs.worker.runtime import Lanes

    current = served_at(settings(), host, port)
    configure_logging()
    app = create_app(current)
    worker = None
    if not current.broker_url:
        # A lane per channel here too: a slow letter never holds up an email or a text.
        worker = Lanes(current, app.extensions["hcs"].sessions, LANES)
        app.extensions["hcs.dispatcher"] = worker.wake
        worker.start()
    click.echo(f"HCS is serving on http://{host}:{port}/ (Ctrl-C stops it)")
    click.echo(f"Links in messages and provider callbacks point to {current.public_url}")
    try:
        serve(app, host=host, port=port, threads=8, ident="hcs")
    finally:
        if worker is not None:
            worker.stop()


def served_at(current: Settings, host: str, port: int) -> Settings:
    """Links and callbacks follow the served host and port, unless HCS_PUBLIC_URL is set."""
    if os.environ.get("HCS_PUBLIC_URL", "").strip():
        return current
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return replace(current, public_url=f"http://{shown}:{port}")


@main.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Celery: worker processes (default: one per CPU); in-process: threads per lane (1).",
)
@click.option(
    "--queues",
    default=None,
    metavar="email,sms,chat,letter,ai",
    help="The lanes this worker serves: channels, and `ai` (generation); default all.",
)
def worker(concurrency: int | None, queues: str | None) -> None:
    """Dispatch messages: a Celery worker when HCS_BROKER_URL is set, else the in-process one.

    Each channel is a lane of its own (a Celery queue, or in-process threads), so a slow
    channel never holds up another; run workers for `--queues letter` apart to keep it so.
    """
    from hcs.worker.lanes import channel_lanes, parse_lanes
    from hcs.worker.runtime import Lanes

    try:
        lanes = parse_lanes(queues)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    current = settings()
    _warn_of_local_letters(current, lanes)
    if current.broker_url:
        from hcs.worker.sweeping import run_celery_worker

        sys.exit(run_celery_worker(current, lanes=lanes, concurrency=concurrency))
    configure_logging()
    lanes = channel_lanes(lanes)  # in-process, each lane's worker generates AI text itself
    threads = concurrency or 1
    # One connection per dispatch thread and a spare for housekeeping: bounded, not per CPU.
    needed = len(lanes) * threads + 1
    engine = make_engine(current.database_url, **pool(current, needed, 2, needed=needed))
    runner = Lanes(current, session_factory(engine), lanes, threads)
    click.echo(f"HCS worker: dispatching {','.join(lanes)} (Ctrl-C stops it)")
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()
    finally:
        engine.dispose()


def _warn_of_local_letters(current: Settings, lanes: Sequence[str]) -> None:
    """One line on stderr when this worker's letters would stay on its host's disk."""
    from hcs.channels.letter import local_letters_warning

    warning = local_letters_warning(current) if "letter" in lanes else None
    if warning:
        click.echo(warning, err=True)


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


def _alembic(name: str, *args: str) -> None:
    from hcs.infrastructure import migrate  # Alembic loads only for the commands that use it

    try:
        getattr(migrate, name)(settings().database_url, *args)
    except Exception as exc:  # Alembic raises plain errors for a bad revision name
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    _alembic("upgrade", revision)


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (`base` undoes all)."""
    _alembic("downgrade", revision)


@db.command()
@click.option("-m", "--message", required=True)
def revision(message: str) -> None:
    """Write a new revision from the difference between the models and the database."""
    _alembic("revision", message)


def _register() -> None:
    from hcs.cli import apikeys, keys, templates, users
    from hcs.cli.ai import ai
    from hcs.cli.archive import archive_group
    from hcs.cli.audit import audit
    from hcs.cli.messages import messages

    main.add_command(templates.templates)
    main.add_command(users.users)
    main.add_command(apikeys.apikeys)
    main.add_command(audit)
    main.add_command(archive_group)
    main.add_command(keys.keys)
    main.add_command(ai)
    main.add_command(messages)


_register()
