"""What a reviewer sees of a sign-off item: the data the model saw, invisible characters shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hcs.ai.slots import slot_from
from hcs.ai.unicode import made_visible
from hcs.messages.models import Message
from hcs.signoffs.generation import allowed_inputs
from hcs.signoffs.models import SignoffItem
from templates_store.models import TemplateVersion


def input_values(session: Session, item: SignoffItem) -> dict[str, dict[str, Any]]:
    """Per slot, the actual values of the inputs the model saw (for people with `signoff`)."""
    message = session.get_one(Message, item.message_id)
    version = session.get_one(TemplateVersion, message.version_id)
    return {
        definition["name"]: allowed_inputs(slot_from(definition), message.data)
        for definition in version.ai_slots
        if definition["name"] in item.slots
    }


def visible(value: Any) -> Any:
    """A value with every invisible character in its strings shown as `⟨U+XXXX⟩`."""
    if isinstance(value, str):
        return made_visible(value)
    if isinstance(value, dict):
        return {key: visible(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [visible(inner) for inner in value]
    return value
