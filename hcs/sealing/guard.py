"""Entries are hashed as they are inserted and never change afterwards, whoever asks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from hcs.errors import AppendOnlyViolation
from hcs.sealing.models import SEAL_FIELDS, Seal, SealedMixin


def _fill_defaults(entry: SealedMixin) -> None:
    table = entry.__table__  # type: ignore[attr-defined]
    for name in entry.hashed_columns:
        default = table.c[name].default
        if getattr(entry, name) is None and default is not None:
            setattr(entry, name, default.arg(None) if default.is_callable else default.arg)


@event.listens_for(SealedMixin, "before_insert", propagate=True)
def _hash_on_insert(mapper: Any, connection: Any, entry: SealedMixin) -> None:
    if entry.seq is not None or entry.seal_id is not None:
        raise AppendOnlyViolation(f"the {entry.seal_log} log numbers entries when sealing them")
    # Explicit NULLs: the guard then knows numbering is a first change, not a rewrite.
    entry.seq = entry.seal_id = None
    _fill_defaults(entry)
    entry.entry_hash = entry.compute_hash()


def check_unchanged(entry: SealedMixin | Seal) -> None:
    """Refuse any change to an entry or a seal, except numbering an entry into a seal once."""
    state = inspect_state(entry)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if isinstance(entry, SealedMixin) and _numbers_once(attr.key, history.deleted):
            continue
        raise AppendOnlyViolation(f"{_log_of(entry)} is append-only: {attr.key} cannot change")


def _numbers_once(key: str, previous: Any) -> bool:
    return key in SEAL_FIELDS and list(previous) == [None]


def _log_of(obj: Any) -> str:
    is_seal = obj is Seal or isinstance(obj, Seal)
    return "the seals table" if is_seal else f"the {obj.seal_log} log"


@event.listens_for(Session, "before_flush")
def _guard_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, (SealedMixin, Seal)):
            check_unchanged(obj)
    for obj in session.deleted:
        if isinstance(obj, (SealedMixin, Seal)):
            raise AppendOnlyViolation(f"{_log_of(obj)} is append-only: nothing is deleted")


@event.listens_for(Session, "do_orm_execute")
def _guard_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if issubclass(model, (SealedMixin, Seal)):
        raise AppendOnlyViolation(f"{_log_of(model)} is append-only: no bulk changes")
