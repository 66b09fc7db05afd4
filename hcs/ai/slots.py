"""AI slot definitions: what reviewers approve, and the checks a version's slots must pass."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hcs.ai.guardrails import run_guardrails
from hcs.ai.prompting import DATA_CLOSE, DATA_OPEN
from templates_store.checks import slot_shape_errors
from templates_store.errors import ValidationFailed

ON_FAILURE = ("fallback", "block")
TONES = ("friendly", "warm", "neutral", "formal", "concise")
MAX_CHARS = 2000
MAX_INSTRUCTION_CHARS = 4000
NO_SLOTS_CATEGORIES = ("sensitive",)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")


@dataclass(frozen=True)
class Slot:
    """One approved AI slot: instruction, allowed inputs, length bound, fallback and policy."""

    name: str
    instruction: str
    inputs: tuple[str, ...]
    max_chars: int
    fallback: str
    tone: str = "friendly"
    on_failure: str = "fallback"


def slot_from(definition: Mapping[str, Any]) -> Slot:
    """A Slot from a stored definition (as `check_slots` returns it)."""
    try:
        return Slot(
            name=str(definition["name"]),
            instruction=str(definition["instruction"]),
            inputs=tuple(str(name) for name in definition.get("inputs") or ()),
            max_chars=int(definition["max_chars"]),
            fallback=str(definition["fallback"]),
            tone=str(definition.get("tone") or "friendly"),
            on_failure=str(definition.get("on_failure") or "fallback"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed({"ai_slots": [f"not a complete slot definition: {exc}"]}) from None


def _input_errors(
    inputs: Any, declared: Mapping[str, Mapping[str, Any]], slot_names: set[str]
) -> list[str]:
    if not isinstance(inputs, list) or not all(isinstance(n, str) for n in inputs):
        return ["must be a list of variable names"]
    errors = []
    if len(set(inputs)) != len(inputs):
        errors.append("names a variable twice")
    for name in inputs:
        if name in slot_names:
            errors.append(f"{name!r} is an AI slot, not a variable")
        elif name not in declared:
            errors.append(f"{name!r} is not a declared variable")
        elif declared[name].get("data_class") == "sensitive":
            errors.append(f"{name!r} is sensitive data and is never sent to a model")
    return errors


def _max_chars_errors(value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return ["must be a whole number of characters"]
    if not 1 <= value <= MAX_CHARS:
        return [f"must be between 1 and {MAX_CHARS}"]
    return []


def _field_errors(
    slot: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]], slot_names: set[str]
) -> dict[str, list[str]]:
    errors = {
        "inputs": _input_errors(slot.get("inputs", []), declared, slot_names),
        "max_chars": _max_chars_errors(slot.get("max_chars")),
        "name": [],
        "instruction": [],
        "tone": [],
        "on_failure": [],
    }
    name, instruction = str(slot.get("name") or ""), str(slot.get("instruction") or "")
    if name and not _NAME.match(name):
        errors["name"].append("must be a letter followed by letters, digits or underscores")
    elif name in declared:
        errors["name"].append(f"{name!r} is already a variable")
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        errors["instruction"].append(f"must be at most {MAX_INSTRUCTION_CHARS} characters")
    if DATA_OPEN in instruction or DATA_CLOSE in instruction:
        errors["instruction"].append("must not contain the customer data delimiter")
    if slot.get("tone", "friendly") not in TONES:
        errors["tone"].append(f"must be one of {', '.join(TONES)}")
    if slot.get("on_failure", "fallback") not in ON_FAILURE:
        errors["on_failure"].append(f"must be one of {', '.join(ON_FAILURE)}")
    return {field: messages for field, messages in errors.items() if messages}


def _fallback_errors(
    slot: Slot, category: str, link_domains: Sequence[str], forbidden: Sequence[str] | None
) -> list[str]:
    findings = run_guardrails(
        slot.fallback, slot, {}, category=category, link_domains=link_domains, forbidden=forbidden
    )
    return [f"fails the {f.check} guardrail: {f.detail}" for f in findings if not f.passed]


def _normalised(slot: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": slot.get("name", ""),
        "instruction": slot.get("instruction", ""),
        "inputs": list(slot.get("inputs") or []),
        "max_chars": slot.get("max_chars"),
        "fallback": slot.get("fallback", ""),
        "tone": slot.get("tone", "friendly"),
        "on_failure": slot.get("on_failure", "fallback"),
    }


def check_slots(
    slots: Sequence[Mapping[str, Any]],
    variables: Sequence[Mapping[str, Any]],
    category: str,
    *,
    link_domains: Sequence[str] = (),
    forbidden: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """A version's slots, complete and safe to submit; else ValidationFailed naming each field.

    Every problem of every slot is named at once: missing text beside a bad bound or input.
    """
    errors = slot_shape_errors(slots)
    if "ai_slots" in errors:
        raise ValidationFailed(errors)
    if slots and category in NO_SLOTS_CATEGORIES:
        raise ValidationFailed({"ai_slots": [f"{category} templates cannot have AI slots"]})
    declared = {str(v.get("name")): v for v in variables if isinstance(v, Mapping)}
    shaped = [dict(slot) for slot in slots if isinstance(slot, Mapping)]
    names = [str(slot.get("name", "")) for slot in shaped]
    for index, slot in enumerate(slots):
        if not isinstance(slot, Mapping):
            continue
        fields = _field_errors(slot, declared, set(names))
        if slot.get("name") and names.count(str(slot["name"])) > 1:
            fields.setdefault("name", []).append("is used by another slot")
        if "max_chars" not in fields and f"ai_slots.{index}.fallback" not in errors:
            fallback = _fallback_errors(
                slot_from(_normalised(slot)), category, link_domains, forbidden
            )
            if fallback:
                fields["fallback"] = fallback
        for field, messages in fields.items():
            errors.setdefault(f"ai_slots.{index}.{field}", []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    return [_normalised(slot) for slot in shaped]


def slot_errors(
    slots: Sequence[Mapping[str, Any]],
    variables: Sequence[Mapping[str, Any]],
    category: str,
    **options: Any,
) -> dict[str, list[str]]:
    """What submitting these slots would refuse (nothing when they pass)."""
    try:
        check_slots(slots, variables, category, **options)
    except ValidationFailed as exc:
        return dict(exc.errors)
    return {}
