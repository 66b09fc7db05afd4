"""`hcs messages`: operate on sent and failed messages."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from hcs.cli import settings, unit_of_work
from hcs.cli.users import cli_actor
from hcs.dispatch.retrying import retry_failed
from hcs.infrastructure.config import parse_duration
from hcs.messages import resolving
from templates_store.orm import utcnow


@click.group()
def messages() -> None:
    """Messages after they were accepted."""


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC when it names no zone) or a duration back from now (`2h`, `3d`)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.ClickException(
            f"--since: expected an ISO 8601 time or a duration like 90m, 24h or 2d, not {text!r}"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise click.ClickException(f"--since: {text} is in the future")
    return moment


@messages.command()
@click.option("--status", "status", default=None, help="Which messages: only `failed`.")
@click.option("--since", "since", default=None, help="Failed at or after: ISO time or `24h`.")
def retry(status: str | None, since: str | None) -> None:
    """Queue failed messages again, deliberately; prints how many (audited)."""
    if status is None:
        raise click.ClickException("--status: say which messages: --status failed")
    if status != "failed":
        raise click.ClickException(f"--status: only `failed` can be retried, not {status!r}")
    if not since:
        raise click.ClickException("--since: say from when, e.g. --since 24h")
    moment = parse_since(since, utcnow())
    with unit_of_work(settings()) as session:
        queued = retry_failed(session, moment, actor=cli_actor())
    noun = "message" if len(queued) == 1 else "messages"
    click.echo(f"{len(queued)} failed {noun} queued again")


@messages.command()
@click.argument("message_id")
@click.option("--sent", is_flag=True, help="The provider took it: mark it sent.")
@click.option("--resend", is_flag=True, help="Send it again, marked possible_duplicate.")
@click.option("--fail", is_flag=True, help="It did not go out: mark it failed.")
def resolve(message_id: str, sent: bool, resend: bool, fail: bool) -> None:
    """Settle a message whose send had an unknown outcome (audited)."""
    chosen = [name for name, given in (("sent", sent), ("resend", resend), ("fail", fail)) if given]
    if not chosen:
        raise click.ClickException("say what became of it: --sent, --resend or --fail")
    if len(chosen) > 1:  # a slip: the last flag must not silently decide
        raise click.ClickException("say one of --sent, --resend or --fail, not several")
    [outcome] = chosen
    with unit_of_work(settings()) as session:
        message = resolving.resolve(session, message_id, outcome, actor=cli_actor())
        status = message.status
    click.echo(f"{message_id}: {status}")
