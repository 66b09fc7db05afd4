"""Erasing a recipient's personal data from the sign-off queue: the texts people read and edited.

An item keeps its decision, who made it and when, the slots' provenance (provider, model,
parameters, the digests of the inputs and the prompt) and the checks' outcomes; the texts, the
model's raw answer, the checks' explanations and the reviewer's comment go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.signoffs.models import SignoffItem

ERASED = "[erased]"
TEXTS = ("text", "generated", "raw")


def _slot(slot: dict[str, Any]) -> dict[str, Any]:
    kept = {name: ERASED if name in TEXTS and value else value for name, value in slot.items()}
    kept["findings"] = [_without_detail(f) for f in slot.get("findings") or []]
    if isinstance(slot.get("judge"), dict):
        kept["judge"] = _without_detail(slot["judge"])
    return kept


def _without_detail(found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "detail": ERASED} if "detail" in found else dict(found)


def erase_signoffs(session: Session, message_ids: Sequence[str]) -> int:
    """Redact the sign-off items of these messages; how many."""
    query = select(SignoffItem).where(SignoffItem.message_id.in_(message_ids))
    items = list(session.scalars(query))
    for item in items:
        item.slots = {name: _slot(slot) for name, slot in item.slots.items()}
        item.edits = [
            {**edit, "slots": {name: ERASED for name in edit.get("slots", {})}}
            for edit in item.edits
        ]
        item.comment = ERASED if item.comment else ""
    session.flush()
    return len(items)
