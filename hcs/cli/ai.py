"""`hcs ai`: measure the AI guardrails on a labelled file of replies."""

from __future__ import annotations

import click

from hcs.ai.evaluation import evaluate, load_cases, table
from hcs.cli import settings
from hcs.errors import UnreadableEvaluation


@click.group()
def ai() -> None:
    """AI slots and their guardrails."""


@ai.command("evaluate")
@click.argument("file", type=click.Path(dir_okay=False))
def evaluate_file(file: str) -> None:
    """Run every reply of FILE (JSON Lines) through the guardrails; print recall and misses."""
    try:
        cases = load_cases(file)
    except UnreadableEvaluation as exc:
        raise click.ClickException(str(exc)) from None
    from hcs.ai.judge import build_judge

    judge = build_judge(settings())
    report = evaluate(cases, judge=judge.finding if judge else None)
    if judge is not None:
        click.echo(f"with the judge {judge.model} at {judge.base_url}")
    for line in table(report):
        click.echo(line)
