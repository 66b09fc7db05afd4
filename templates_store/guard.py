"""The immutability guard: no session, whoever drives it, may alter a submitted version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from templates_store.errors import ImmutableVersion
from templates_store.models import VersionMixin
from templates_store.status import Status, check_transition


def _status_move(state: Any) -> tuple[Status, Status] | None:
    history = state.attrs.status.history
    if not history.deleted:
        return None
    return Status(history.deleted[0]), Status(history.added[0])


def _was_frozen(version: VersionMixin) -> bool:
    move = _status_move(inspect(version))
    before = move[0] if move else version.status
    return before is not Status.DRAFT


def check_version(version: VersionMixin) -> None:
    """Refuse content changes to a submitted version and status moves the table forbids."""
    state = inspect(version)
    move = _status_move(state)
    if move:
        check_transition(*move)
    if not _was_frozen(version):
        return
    changed = [f for f in version.content_fields if state.attrs[f].history.has_changes()]
    if changed:
        raise ImmutableVersion(
            f"version {version.number} is {version.status.value}; "
            f"{', '.join(changed)} can no longer change: start a new draft"
        )


@event.listens_for(Session, "before_flush")
def _guard_versions(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, VersionMixin):
            check_version(obj)
    for obj in session.deleted:
        if isinstance(obj, VersionMixin) and _was_frozen(obj):
            raise ImmutableVersion(f"version {obj.number} is {obj.status.value}; it is kept")
