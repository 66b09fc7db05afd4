"""What `hcs archive` and `hcs audit` share about checkpoints: write the latest, check one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click
from sqlalchemy.orm import Session

from hcs.cli import settings, unit_of_work
from hcs.errors import NoteError
from hcs.sealing import checkpoints
from hcs.sealing.locating import first_rewritten
from hcs.sealing.models import SealedMixin
from hcs.sealing.notes import Verifier
from hcs.sealing.witness import checkpointing, publish_checkpoint, required, sign_logs

PUBLIC_KEY_HELP = "The public key to check the signature with (default: the configured key's)."


def write_latest(
    models: Sequence[type[SealedMixin]], seal: Callable[[Session], object], out: Path
) -> None:
    """Seal what is pending, sign the new head if it moved, write the latest checkpoint."""
    current = settings()
    try:
        signing = required(current)
        with unit_of_work(current) as session:
            seal(session)
            new = sign_logs(session, models, signing)
            latest = checkpoints.latest_checkpoint(session, models[0].seal_log)
    except NoteError as exc:
        raise click.ClickException(str(exc)) from exc
    publish_checkpoint(signing, new)
    if latest is None:
        raise click.ClickException(f"the {models[0].seal_log} log has no checkpoint")
    out.write_text(latest.note)
    click.echo(f"checkpoint of {latest.log}: {latest.size} entries, written to {out}")


def verifier(public_key: str | None) -> Verifier:
    """The verifier key given, else the public half of the configured signing key."""
    try:
        if public_key:
            return Verifier.parse(public_key)
        return required(settings()).signer.verifier
    except NoteError as exc:
        raise click.ClickException(str(exc)) from exc


def check_file(
    session: Session, models: Sequence[type[SealedMixin]], path: Path, key: Verifier
) -> str:
    """One line of what the checkpoint proves; ClickException naming the first bad entry."""
    try:
        results = checkpoints.check_checkpoint(session, models, path.read_text(), key)
    except (NoteError, OSError) as exc:
        raise click.ClickException(f"checkpoint {path}: {exc}") from exc
    for result in results:
        if not result.ok:
            entry = f"entry {result.first_bad_id} " if result.first_bad_id else ""
            raise click.ClickException(f"{result.log} {entry}{result.reason}")
    return "; ".join(
        f"{r.log}: {r.size} entries extend the checkpoint's {r.old_size}" for r in results
    )


def rewritten(session: Session, models: Sequence[type[SealedMixin]]) -> str | None:
    """With a signing key configured: the first entry its leaf signature does not vouch for."""
    try:
        signing = checkpointing(settings())
    except NoteError:
        return None
    if signing is None:
        return None
    for model in models:
        found = first_rewritten(session, model, signing.signer.verifier)
        if found is not None:
            entry_id, seq = found
            return f"{model.seal_log} entry {entry_id} is not the entry that was signed (seq {seq})"
    return None
