"""`hcs templates`: templates, blocks and themes as files, for review in git."""

from __future__ import annotations

from pathlib import Path

import click

from hcs.cli import settings, unit_of_work
from templates_store.files import export_all, import_all


@click.group()
def templates() -> None:
    """Templates as files, for review in git."""


@templates.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--include-drafts",
    is_flag=True,
    help="The newest version whatever its status (drafts, in review, rejected).",
)
def export_templates(directory: Path, include_drafts: bool) -> None:
    """Write the newest approved or published version of each template, block and theme."""
    with unit_of_work(settings()) as session:
        written = export_all(session, directory, drafts=include_drafts)
    click.echo(f"exported {len(written)} folders to {directory}")


@templates.command("import")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--author", default="import", show_default=True, help="Recorded as the author.")
def import_templates(directory: Path, author: str) -> None:
    """Read DIRECTORY; each changed template, block or theme becomes a new draft."""
    with unit_of_work(settings()) as session:
        report = import_all(session, directory, author=author)
    for draft in report.drafts:
        click.echo(f"draft {draft}")
    click.echo(f"{len(report.drafts)} drafts created, {len(report.unchanged)} unchanged")
