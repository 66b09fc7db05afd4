"""Red-team runs of a version's AI slots, kept with its review so it is approved knowing them.

The run itself calls the model and holds no transaction (`hcs.ai.redteam`); this module reads
what it needs from the version first and records the result after, with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs import jobs
from hcs.ai.personal_data import approved_texts
from hcs.ai.providers import AIProvider
from hcs.ai.redteam import Attack, Bench, cases_for, red_team, summarise
from hcs.ai.slots import Slot, slot_from
from hcs.audit import record
from hcs.governance.models import RedTeamRun
from hcs.governance.policies import policy_for
from hcs.infrastructure.db import transaction
from hcs.jobs.runner import JobContext, Work
from templates_store.errors import ValidationFailed
from templates_store.lookup import get_version
from templates_store.models import TemplateVersion
from templates_store.samples import default_sample

# A model call each: a version with many free-text inputs is tested on the first cases only.
MAX_CASES = 64


@dataclass(frozen=True)
class Plan:
    """What one run tests: the version, its slots and the bench they run on."""

    version_id: int
    key: str
    number: int
    bench: Bench
    cases: list[tuple[Slot, Attack | None]]
    planned: int


def plan_run(session: Session, key: str, number: int, provider: AIProvider) -> Plan:
    """The run for version `number` of `key`; ValidationFailed when it has no AI slots."""
    version = get_version(session, key, number)
    if not version.ai_slots:
        raise ValidationFailed({"ai_slots": ["this version has no AI slots to test"]})
    category = version.template.category
    variables = [dict(v) for v in version.variables]
    bench = Bench(
        provider=provider,
        category=category,
        locale=version.template.default_locale,
        guardrails={
            **policy_for(session, category).guardrail_options(),
            "approved": approved_texts(version.parts),
        },
        sample=default_sample(version.sample_data or {}),
        types={str(v.get("name")): str(v.get("type", "string")) for v in variables},
    )
    slots = [slot_from(definition) for definition in version.ai_slots]
    cases = cases_for(bench, slots, variables)
    return Plan(version.id, key, number, bench, cases[:MAX_CASES], len(cases))


def execute(plan: Plan, progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Run the plan's cases against the model (no transaction is held); each case's result."""
    return red_team(plan.bench, plan.cases, progress)


def record_run(
    session: Session, plan: Plan, cases: Sequence[Mapping[str, Any]], *, actor: str
) -> RedTeamRun:
    """Keep a finished run with the version and write its audit entry."""
    provider = plan.bench.provider
    judge = provider.judge.model if provider.judge is not None else ""
    summary = {**summarise(cases), "planned": plan.planned}
    run = RedTeamRun(
        template_version_id=plan.version_id,
        run_by=actor,
        provider=provider.name,
        model=str(getattr(provider, "model", "")),
        judge=judge,
        mode="deterministic" if provider.name == "offline" else "model",
        summary=summary,
        cases=[dict(c) for c in cases],
    )
    session.add(run)
    session.flush()
    record(
        session,
        actor=actor,
        action="template.red_team",
        target_type="template",
        target=f"{plan.key} v{plan.number}",
        detail={"run": run.id, "provider": run.provider, "model": run.model, **summary},
    )
    return run


def runs_of(session: Session, version: TemplateVersion, *, limit: int = 5) -> list[RedTeamRun]:
    """The version's latest red-team runs, newest first."""
    query = (
        select(RedTeamRun)
        .where(RedTeamRun.template_version_id == version.id)
        .order_by(RedTeamRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def release(provider: AIProvider) -> None:
    """Close the provider's connections when it has any (the OpenAI SDK's pools)."""
    close = getattr(provider, "close", None)
    if callable(close):
        close()


def red_team_work(plan: Plan, *, actor: str) -> Work:
    """A job that runs the plan's cases with its progress, then keeps the run."""

    def work(context: JobContext) -> None:
        try:
            cases = execute(plan, lambda done: context.report(done, step="Running hostile cases"))
        finally:
            release(plan.bench.provider)
        with transaction(context.sessions) as session:
            run = record_run(session, plan, cases, actor=actor)
            result = {"run": run.id, "key": plan.key, "number": plan.number, **run.summary}
            jobs.succeed(session, context.job_id, result)

    return work
