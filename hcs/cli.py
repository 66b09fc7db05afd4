"""The `hcs` command: set-up, serving, migrations and templates as files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from hcs import migrate
from hcs.config import Settings, load_settings
from hcs.db import make_engine, session_factory, transaction
from templates_store.errors import TemplateStoreError


@contextmanager
def _unit_of_work(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            yield session
    except TemplateStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()


def _settings() -> Settings:
    return click.get_current_context().ensure_object(dict).setdefault("settings", load_settings())


@click.group()
def main() -> None:
    """HCS: governed customer communications."""


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo templates (once).")
def init(demo: bool) -> None:
    """Migrate the database, then load the demo set when asked."""
    from hcs import setup

    settings = _settings()
    migrate.upgrade(settings.database_url)
    with _unit_of_work(settings) as session:
        for line in setup.initialise(session, demo=demo):
            click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Serve the web app and the API."""
    from waitress import serve

    from hcs.app import create_app

    app = create_app(_settings())
    click.echo(f"HCS is serving on http://{host}:{port}/ (Ctrl-C stops it)")
    serve(app, host=host, port=port, threads=8, ident="hcs")


@main.group()
def db() -> None:
    """Schema migrations (Alembic)."""


def _alembic(action: Callable[..., Any], *args: str) -> None:
    try:
        action(_settings().database_url, *args)
    except Exception as exc:  # Alembic raises plain errors for a bad revision name
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    _alembic(migrate.upgrade, revision)


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (`base` undoes all)."""
    _alembic(migrate.downgrade, revision)


@db.command()
@click.option("-m", "--message", required=True)
def revision(message: str) -> None:
    """Write a new revision from the difference between the models and the database."""
    _alembic(migrate.revision, message)


@main.group()
def templates() -> None:
    """Templates as files, for review in git."""


@templates.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_templates(directory: Path) -> None:
    """Write the newest version of every template, block and theme to DIRECTORY."""
    from templates_store.files import export_all

    with _unit_of_work(_settings()) as session:
        written = export_all(session, directory)
    click.echo(f"exported {len(written)} folders to {directory}")


@templates.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--author", default="import", show_default=True, help="Recorded as the author.")
def import_templates(directory: Path, author: str) -> None:
    """Read DIRECTORY; each changed template, block or theme becomes a new draft."""
    from templates_store.files import import_all

    with _unit_of_work(_settings()) as session:
        report = import_all(session, directory, author=author)
    for draft in report.drafts:
        click.echo(f"draft {draft}")
    click.echo(f"{len(report.drafts)} drafts created, {len(report.unchanged)} unchanged")
