"""Authoring: create, draft, edit, submit, decide, publish and retire, for every reviewed kind.

The one service the API, the web pages and the CLI call to change templates, content blocks and
brand themes. Each function takes primitives, never commits, and writes its own audit entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.governance.kinds import Owner, Version, kind_of
from hcs.governance.policies import policy_for
from hcs.governance.workflow import decide_stage, retire_template
from templates_store.models import Template


def _label(key: str, number: int) -> str:
    return f"{key} v{number}"


def create(session: Session, kind: str, fields: Mapping[str, Any], *, actor: str) -> Owner:
    """A new template, block or theme with no versions yet."""
    spec = kind_of(kind)
    created = spec.create(session, fields)
    record(
        session,
        actor=actor,
        action=f"{kind}.create",
        target_type=kind,
        target=created.key,
        after=spec.created_facts(created),
    )
    return created


def draft(
    session: Session, kind: str, key: str, body: Mapping[str, Any] | None = None, *, actor: str
) -> Version:
    """A new draft by `actor`: a copy of the newest version (or `from_version`), then `body`."""
    spec = kind_of(kind)
    version = spec.draft(session, key, actor, body or {})
    record(
        session,
        actor=actor,
        action=f"{kind}.draft",
        target_type=kind,
        target=_label(key, version.number),
        detail=spec.draft_facts(version),
    )
    return version


def edit(
    session: Session, kind: str, key: str, number: int, body: Mapping[str, Any], *, actor: str
) -> Version:
    """Change a draft; a submitted version refuses (ImmutableVersion)."""
    version = kind_of(kind).edit(session, key, number, body)
    record(
        session,
        actor=actor,
        action=f"{kind}.edit",
        target_type=kind,
        target=_label(key, number),
        detail={"fields": sorted(body)},
    )
    return version


def submit(session: Session, kind: str, key: str, number: int, *, actor: str) -> Version:
    """Freeze a draft for review, after the checks its kind runs first."""
    spec = kind_of(kind)
    version = spec.freeze(session, key, number)
    record(
        session,
        actor=actor,
        action=f"{kind}.submit",
        target_type=kind,
        target=_label(key, number),
        after=spec.frozen_facts(version),
    )
    return version


def decide(
    session: Session,
    kind: str,
    key: str,
    number: int,
    *,
    approve: bool,
    comment: str = "",
    actor: str,
    roles: Collection[str],
    stage: str | None = None,
) -> Version:
    """The next stage of the version's policy approves or rejects it; never its author."""
    spec = kind_of(kind)
    version = spec.get_version(session, key, number)
    policy = policy_for(session, spec.category(version))
    decision = decide_stage(
        session,
        kind,
        version,
        policy,
        reviewer=actor,
        roles=roles,
        approve=approve,
        comment=comment,
        stage=stage,
    )
    record(
        session,
        actor=actor,
        action=f"{kind}.{'approve' if approve else 'reject'}",
        target_type=kind,
        target=spec.decision_prefix + _label(key, number),
        after={"stage": decision.stage, "status": version.status.value},
        detail={"comment": comment},
    )
    return version


def publish(session: Session, kind: str, key: str, number: int, *, actor: str) -> Version:
    """Make an approved version the current one; for a template, an older one is a rollback."""
    published = kind_of(kind).publish(session, key, number)
    record(
        session,
        actor=actor,
        action=f"{kind}.{published.verb}",
        target_type=kind,
        target=_label(key, number),
        before={"published": published.replaced},
        after={"published": number, **published.facts},
    )
    return cast(Version, published.version)


def retire(session: Session, key: str, *, actor: str) -> Template:
    """Stop every send of a template: its sendable versions retire with it."""
    template, retired = retire_template(session, key)
    record(
        session,
        actor=actor,
        action="template.retire",
        target_type="template",
        target=key,
        after={"retired_versions": retired},
    )
    return template
