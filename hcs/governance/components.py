"""Which published templates pin an older block than the one now published."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from templates_store.models import BlockVersion, ContentBlock, TemplateVersion
from templates_store.status import Status


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
