"""`hcs audit`: seal the audit log and prove it unchanged."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session

from hcs.audit import AuditEntry
from hcs.cli import checkpoints as evidence
from hcs.cli import settings, unit_of_work
from hcs.sealing import Verification, seal_pending, verify


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command()
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def seal(batch_size: int) -> None:
    """Seal every audit entry not sealed yet."""
    with unit_of_work(settings()) as session:
        sealed = seal_pending(session, AuditEntry, batch_size=batch_size)
    click.echo(f"{sealed} entries sealed")


@audit.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also prove the log extends this signed checkpoint.",
)
@click.option("--public-key", help=evidence.PUBLIC_KEY_HELP)
def verify_log(checkpoint: Path | None, public_key: str | None) -> None:
    """Seal pending entries, then recompute every entry and seal; name the first mismatch."""
    current = settings()
    key = evidence.verifier(public_key) if checkpoint else None
    with unit_of_work(current) as session:
        seal_pending(session, AuditEntry)
    with unit_of_work(current) as session:
        result = verify(session, AuditEntry)
        if not result.ok:
            exact = None if result.first_bad_id else evidence.rewritten(session, [AuditEntry])
            found = describe(session, result)
            raise click.ClickException(f"{exact}; {found}" if exact else found)
        proven = ""
        if key and checkpoint:
            proven = evidence.check_file(session, [AuditEntry], checkpoint, key)
    click.echo(f"{result.checked} entries verified, {result.seals} seals")
    if proven:
        click.echo(f"consistent with {checkpoint}: {proven}")


@audit.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def checkpoint(out: Path) -> None:
    """Seal, sign the audit log's new head, and write the latest signed checkpoint to a file."""
    evidence.write_latest([AuditEntry], _seal_all, out)


def _seal_all(session: Session) -> int:
    return seal_pending(session, AuditEntry)


def describe(session: Session, result: Verification) -> str:
    """One line naming what does not match: an entry when one is known, else a seal."""
    entry = session.get(AuditEntry, result.first_bad_id) if result.first_bad_id else None
    if entry is None:
        return f"audit log: {result.reason}"
    return f"audit entry {entry.id} ({entry.action} {entry.target}) {result.reason}"
