"""Authoring: create, draft, edit, submit, decide, publish and retire, for every reviewed kind.

The one service the API, the web pages and the CLI call to change templates, content blocks and
brand themes. Each function takes primitives, never commits, and writes its own audit entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.errors import PermissionDenied
from hcs.governance.closures import check_closure, check_publishable
from hcs.governance.kinds import Owner, Version, decision_target, kind_of
from hcs.governance.policies import policy_for
from hcs.governance.workflow import (
    UNSET,
    Unset,
    check_approved_by_others,
    decide_stage,
    retire_template,
)
from hcs.identity.models import User
from templates_store.models import Template


def _label(key: str, number: int) -> str:
    return f"{key} v{number}"


def _check_may_edit(session: Session, version: Version, actor: str) -> None:
    """A person edits someone else's draft only as an author (a system key edits its own kind)."""
    if actor.lower() in {who.lower() for who in version.changed_by}:
        return
    person = session.scalar(select(User).where(User.email == actor))
    if person is not None and "author" not in person.roles:
        raise PermissionDenied(
            f"version {version.number} was created by {version.author}; "
            "only an author may edit someone else's draft"
        )


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
    version.add_contributor(actor)
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
    """Change a draft; a submitted version refuses (ImmutableVersion).

    Whoever edits becomes one of the version's contributors; a person may edit a draft someone
    else created only when they hold the author role.
    """
    spec = kind_of(kind)
    _check_may_edit(session, spec.get_version(session, key, number), actor)
    version = spec.edit(session, key, number, body)
    version.add_contributor(actor)
    record(
        session,
        actor=actor,
        action=f"{kind}.edit",
        target_type=kind,
        target=_label(key, number),
        detail={"fields": sorted(body), "contributors": version.changed_by},
    )
    return version


def submit(session: Session, kind: str, key: str, number: int, *, actor: str) -> Version:
    """Freeze a draft for review, after the checks its kind runs first."""
    spec = kind_of(kind)
    version = spec.freeze(session, key, number)
    version.add_contributor(actor)
    record(
        session,
        actor=actor,
        action=f"{kind}.submit",
        target_type=kind,
        target=_label(key, number),
        after={**(spec.frozen_facts(version) or {}), "contributors": version.changed_by},
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
    closure_hash: str | None = None,
) -> Version:
    """The next stage of the version's policy approves or rejects it; never its contributors.

    `closure_hash`, when given, is what the reviewer saw: another one is a Conflict.
    """
    spec = kind_of(kind)
    version = spec.get_version(session, key, number)
    check_closure(session, version, closure_hash)
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
        target=decision_target(kind, key, number),
        after={
            "stage": decision.stage,
            "status": version.status.value,
            "closure_hash": decision.closure_hash,
        },
        detail={"comment": comment},
    )
    return version


def publish(
    session: Session,
    kind: str,
    key: str,
    number: int,
    *,
    actor: str,
    replaces: int | None | Unset = UNSET,
) -> Version:
    """Make an approved version the current one; for a template, an older one is a rollback.

    A version that one of its own contributors approved is refused (SeparationOfDuties).
    `replaces`, for a template, is the published version the caller saw: another is a Conflict.
    """
    spec = kind_of(kind)
    version = spec.get_version(session, key, number)
    check_approved_by_others(session, kind, version)
    check_publishable(session, kind, key, version)
    expect = {} if isinstance(replaces, Unset) else {"replaces": replaces}
    published = spec.publish(session, key, number, **expect)
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
