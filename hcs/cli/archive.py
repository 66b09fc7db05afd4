"""`hcs archive`: seal and verify, erase, retention, holds, export, key rotation, backfill."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from hcs import archive
from hcs.channels.addresses import lookup_key
from hcs.cli import checkpoints as evidence
from hcs.cli import settings, unit_of_work
from hcs.cli.users import cli_actor
from hcs.dispatch.erasure import erase_subject, release_hold
from hcs.errors import NoteError
from hcs.infrastructure.db import make_engine, session_factory
from hcs.sealing import checkpoints


@click.group("archive")
def archive_group() -> None:
    """The archive of everything sent: integrity, erasure, retention, evidence."""


def _normal(recipient: str | None) -> str | None:
    """An address as messages and erasure key it (`+44 7400 123456` is `+447400123456`)."""
    return None if recipient is None else lookup_key(recipient)


def _keys() -> archive.Keyring:
    return archive.keyring(settings())


@archive_group.command()
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def seal(batch_size: int) -> None:
    """Seal every archive entry and delivery event not sealed yet."""
    with unit_of_work(settings()) as session:
        sealed = archive.seal_archive(session, batch_size=batch_size)
    click.echo(f"{sealed} entries and events sealed")


@archive_group.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also prove the archive extends this signed checkpoint.",
)
@click.option("--public-key", help=evidence.PUBLIC_KEY_HELP)
def verify_archive(checkpoint: Path | None, public_key: str | None) -> None:
    """Seal pending entries, then recompute everything; name the first entry that does not match."""
    current = settings()
    key = evidence.verifier(public_key) if checkpoint else None
    with unit_of_work(current) as session:
        archive.seal_archive(session)
    with unit_of_work(current) as session:
        result = archive.verify_archive(session)
        if not result.ok:
            logs = archive.SIGNED_LOGS
            exact = None if result.first_bad_entry else evidence.rewritten(session, logs)
            raise click.ClickException(_joined(exact, describe(session, result)))
        proven = ""
        if key and checkpoint:
            proven = evidence.check_file(session, archive.SIGNED_LOGS, checkpoint, key)
    click.echo(
        f"{result.entries} entries, {result.events} events and {result.payloads} payloads "
        f"verified, {result.seals} seals"
    )
    if proven:
        click.echo(f"consistent with {checkpoint}: {proven}")


@archive_group.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def checkpoint(out: Path) -> None:
    """Seal, sign the archive's new head, and write the latest signed checkpoint to a file."""
    evidence.write_latest(archive.SIGNED_LOGS, archive.seal_archive, out)


@archive_group.command()
@click.argument("entry_id", type=int)
def prove(entry_id: int) -> None:
    """Print an RFC 9162 inclusion proof of one entry in the latest signed checkpoint (JSON)."""
    with unit_of_work(settings()) as session:
        try:
            proof = checkpoints.prove_inclusion(session, archive.ArchiveEntry, entry_id)
        except NoteError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(proof.as_json(), indent=2))


def _joined(exact: str | None, found: str) -> str:
    return f"{exact}; {found}" if exact else found


def describe(session: Session, result: archive.ArchiveVerification) -> str:
    """One line naming the entry (or seal) that does not match."""
    entry = session.get(archive.ArchiveEntry, result.first_bad_entry or 0)
    if entry is None:
        return f"archive: {result.reason}"
    what = f"{entry.template} v{entry.version} {entry.channel}, message {entry.message_id}"
    return f"archive entry {entry.id} ({what}) {result.reason}"


@archive_group.command()
@click.option(
    "--recipient",
    "recipients",
    required=True,
    multiple=True,
    help="An address (email, E.164 phone, chat id); repeat for each address of one person.",
)
def erase(recipients: tuple[str, ...]) -> None:
    """Erase a data subject: archive keys destroyed, messages and copies redacted.

    Deferred while any of their entries is on legal hold; the seals still verify.
    """
    with unit_of_work(settings()) as session:
        requests = [
            erase_subject(session, recipient, actor=cli_actor(), keys=_keys())
            for recipient in recipients
        ]
    for request in requests:
        if request.state == "deferred":
            click.echo(
                f"erasure {request.id} deferred: entries of this recipient are on legal hold; "
                "it is carried out when the hold is released"
            )
        else:
            click.echo(f"{request.entries} entries became unreadable")


@archive_group.command()
def erasures() -> None:
    """List erasure requests: when, by whom, deferred or done (subjects by keyed hash)."""
    with unit_of_work(settings()) as session:
        requests = archive.list_erasures(session)
        for r in requests:
            done = f"done {r.done_at:%Y-%m-%d %H:%M}, {r.entries} entries" if r.done_at else ""
            click.echo(
                f"{r.id}  {r.requested_at:%Y-%m-%d %H:%M}  {r.requested_by}  {r.state}  "
                f"subject {r.lookup[:16]}  {done}".rstrip()
            )
    if not requests:
        click.echo("no erasure requests")


@archive_group.command("rotate-key")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def rotate_key(batch_size: int) -> None:
    """Re-wrap every subject's key under HCS_ARCHIVE_MASTER_KEY, one committed batch at a time.

    The earlier master keys must be in HCS_ARCHIVE_PREVIOUS_MASTER_KEYS until this has run.
    """
    current, actor = settings(), cli_actor()
    with unit_of_work(current) as session:
        keys = _keys()  # a malformed key is refused here, in one line
        archive.start_rotation(session, keys, actor=actor)
    rewrapped = 0
    while True:
        with unit_of_work(current) as session:
            done = archive.rewrap_batch(session, keys, limit=batch_size)
        if not done:
            break
        rewrapped += done
    with unit_of_work(current) as session:
        archive.finish_rotation(session, keys, rewrapped, actor=actor)
    click.echo(f"{rewrapped} subject keys re-wrapped under master key {keys.master_id}")


@archive_group.command()
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1))
def backfill(batch_size: int) -> None:
    """Archive sent messages whose entry is missing, now (the workers do it about once a minute)."""
    # The pipeline (PDF and AI libraries) loads only for the commands that render.
    from hcs.dispatch.backfill import archive_missed
    from hcs.dispatch.providers import build_providers

    current = settings()
    engine = make_engine(current.database_url)
    try:
        sessions, providers = session_factory(engine), build_providers(current)
        archived = 0
        # Each call skips what failed (paused for ten minutes), so this ends.
        while written := archive_missed(sessions, providers, keys=_keys(), limit=batch_size):
            archived += written
    finally:
        engine.dispose()
    click.echo(f"{archived} sent message{'' if archived == 1 else 's'} archived late")


@archive_group.command()
def purge() -> None:
    """Delete the payloads of entries past their own retention date, except those on hold."""
    with unit_of_work(settings()) as session:
        purged = archive.purge(session, actor=cli_actor())
    detail = ", ".join(f"{category} {n}" for category, n in sorted(purged.items()))
    click.echo(f"{sum(purged.values())} entries purged" + (f" ({detail})" if detail else ""))


@archive_group.command()
@click.argument("category")
@click.argument("days", type=click.IntRange(min=0))
def retention(category: str, days: int) -> None:
    """Keep CATEGORY's entries archived from now on for DAYS days (earlier ones keep theirs)."""
    with unit_of_work(settings()) as session:
        archive.set_retention(session, category, days, actor=cli_actor())
    click.echo(f"{category}: entries archived from now on are kept {days} days")


@archive_group.command()
@click.option("--entry", type=int, help="One entry's id.")
@click.option("--recipient", help="Every entry of one recipient, now and later.")
@click.option("--reason", default="", help="Why (a case or claim reference).")
def hold(entry: int | None, recipient: str | None, reason: str) -> None:
    """Place a legal hold: the entries are kept past their retention."""
    with unit_of_work(settings()) as session:
        placed = archive.place_hold(
            session,
            entry_id=entry,
            recipient_key=_normal(recipient),
            reason=reason,
            actor=cli_actor(),
            keys=_keys(),
        )
    click.echo(f"legal hold {placed.id} placed")


@archive_group.command()
@click.option("--entry", type=int, help="One entry's id.")
@click.option("--recipient", help="One recipient.")
def release(entry: int | None, recipient: str | None) -> None:
    """Release the legal holds on one entry or one recipient."""
    with unit_of_work(settings()) as session:
        count = release_hold(
            session,
            entry_id=entry,
            recipient_key=_normal(recipient),
            actor=cli_actor(),
            keys=_keys(),
        )
    click.echo(f"{count} legal holds released")


@archive_group.command()
@click.option("--recipient")
@click.option("--template")
@click.option("--channel")
@click.option("--category")
@click.option("--since", type=click.DateTime(), help="UTC")
@click.option("--until", type=click.DateTime(), help="UTC, exclusive")
@click.option("--test/--live", "test", default=None, help="only test keys' entries, or live ones")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export(
    out: Path,
    since: datetime | None,
    until: datetime | None,
    test: bool | None,
    **fields: str | None,
) -> None:
    """Write the entries a search finds to a zip: entries.jsonl plus each output as a file."""
    filters = archive.ArchiveFilters(since=_utc(since), until=_utc(until), test=test, **fields)
    with unit_of_work(settings()) as session, out.open("wb") as stream:
        count = archive.export_search(session, filters, stream, actor=cli_actor(), keys=_keys())
    click.echo(f"{count} entries exported to {out}")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@archive_group.command()
@click.argument("entry_id", type=int)
def rerender(entry_id: int) -> None:
    """Render an entry again from its pinned closure and data; exit 1 unless byte-identical."""
    from hcs.channels.letter import close_renderers
    from hcs.dispatch.providers import build_providers
    from hcs.dispatch.rerendering import rerender as render_again

    current = settings()
    try:
        with unit_of_work(current) as session:
            result = render_again(
                session,
                entry_id,
                providers=build_providers(current),
                actor=cli_actor(),
                keys=_keys(),
            )
    finally:
        close_renderers()
    closure = "same closure" if result.same_closure else "closure hash differs"
    if not result.identical:
        raise click.ClickException(
            f"entry {entry_id} differs from byte {result.first_difference} (archived "
            f"{result.archived_size} bytes, rendered {result.rendered_size}; {closure})"
        )
    click.echo(f"entry {entry_id}: byte-identical ({result.archived_size} bytes, {closure})")
