"""`hcs keys`: the Ed25519 key checkpoints of the archive and the audit log are signed with."""

from __future__ import annotations

from pathlib import Path

import click

from hcs.cli import settings
from hcs.sealing.notes import NoteError, create_key_file


@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command()
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: HCS_SEAL_SIGNING_KEY, else var/seal-signing.key).",
)
@click.option("--name", default="", help="The key's name in signatures (default: the host).")
def init(path: Path | None, name: str) -> None:
    """Create the checkpoint signing key (owner-only file); print the public key for auditors."""
    current = settings()
    path = path or Path(current.seal_signing_key or current.var_dir / "seal-signing.key")
    name = name or current.public_url.split("://")[-1].split("/")[0] or "hcs"
    try:
        signer = create_key_file(path, name)
    except NoteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"signing key written to {path} (readable by its owner only)")
    click.echo(f"set HCS_SEAL_SIGNING_KEY={path}")
    click.echo("public key, for auditors to verify checkpoints with:")
    click.echo(signer.verifier.text())
