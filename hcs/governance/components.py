"""Content blocks and brand themes go through the same workflow as templates."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.audit import record
from hcs.governance.policies import policy_of
from hcs.governance.workflow import decide, swap_published
from templates_store import blocks
from templates_store.lookup import get_block_version, get_theme_version
from templates_store.models import BlockVersion, ContentBlock, TemplateVersion, VersionMixin
from templates_store.status import Status

KINDS = ("block", "theme")


def _version(session: Session, kind: str, key: str, number: int) -> VersionMixin:
    if kind == "block":
        return get_block_version(session, key, number)
    return get_theme_version(session, key, number)


def submit(session: Session, kind: str, key: str, number: int, *, actor: str) -> VersionMixin:
    """Freeze a block or theme draft for review."""
    submitter = blocks.submit_block if kind == "block" else blocks.submit_theme
    version = submitter(session, key, number)
    record(
        session, actor=actor, action=f"{kind}.submit", target_type=kind, target=f"{key} v{number}"
    )
    return version


def approve(
    session: Session,
    kind: str,
    key: str,
    number: int,
    *,
    reviewer: str,
    roles: Collection[str],
    comment: str = "",
    stage: str | None = None,
) -> VersionMixin:
    """One stage of the component policy approves a block or theme version."""
    return _decide(session, kind, key, number, reviewer, roles, comment, stage, approve=True)


def reject(
    session: Session,
    kind: str,
    key: str,
    number: int,
    *,
    reviewer: str,
    roles: Collection[str],
    comment: str,
    stage: str | None = None,
) -> VersionMixin:
    """The current stage rejects a block or theme version."""
    return _decide(session, kind, key, number, reviewer, roles, comment, stage, approve=False)


def _decide(
    session: Session,
    kind: str,
    key: str,
    number: int,
    reviewer: str,
    roles: Collection[str],
    comment: str,
    stage: str | None,
    *,
    approve: bool,
) -> VersionMixin:
    version = _version(session, kind, key, number)
    decide(
        session,
        kind,
        key,
        version,
        policy_of(session, kind, version),
        reviewer=reviewer,
        roles=roles,
        approve=approve,
        comment=comment,
        stage=stage,
    )
    return version


def publish(session: Session, kind: str, key: str, number: int, *, actor: str) -> VersionMixin:
    """Make an approved block or theme version the one new template versions pin."""
    version = _version(session, kind, key, number)
    owner = version.block if isinstance(version, BlockVersion) else version.theme  # type: ignore[attr-defined]
    current = swap_published(session, owner.versions, version)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"{kind}.publish",
        target_type=kind,
        target=f"{key} v{number}",
        before={"published": current.number if current else None},
        after={"published": number},
    )
    return version


@dataclass(frozen=True)
class StalePin:
    """A published template version pinning an older block than the one now published."""

    template: str
    version: int
    block: str
    pinned: int
    published: int


def templates_needing_update(session: Session) -> list[StalePin]:
    """Templates whose published version pins an older block version than the published one."""
    published_blocks = {
        key: number
        for key, number in session.execute(
            select(ContentBlock.key, BlockVersion.number)
            .join(BlockVersion)
            .where(BlockVersion.status == Status.PUBLISHED)
        )
    }
    stale = []
    published = session.scalars(
        select(TemplateVersion).where(TemplateVersion.status == Status.PUBLISHED)
    )
    for version in published:
        for key, pin in sorted((version.closure or {}).get("blocks", {}).items()):
            newest = published_blocks.get(key)
            if newest is not None and pin["number"] < newest:
                stale.append(
                    StalePin(version.template.key, version.number, key, pin["number"], newest)
                )
    return sorted(stale, key=lambda s: (s.template, s.block))
