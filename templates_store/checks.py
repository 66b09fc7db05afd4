"""What a version must satisfy to be saved and to be submitted; errors name the part."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.orm import Session

from templates_store.analysis import check_syntax, used_blocks, used_variables
from templates_store.composing import render_all
from templates_store.errors import TemplateProblem, ValidationFailed
from templates_store.models import TemplateVersion
from templates_store.parts import iter_sources, missing_required
from templates_store.samples import DEFAULT_SET, sample_sets
from templates_store.variables import load_payload
from templates_store.visual_document import CONTAINERS

SLOT_FIELDS = {"name", "instruction", "inputs", "max_chars", "fallback", "tone", "on_failure"}


def _problem(part: str, exc: TemplateProblem) -> dict[str, list[str]]:
    return {f"parts.{part}": [str(exc)]}


def check_part_syntax(parts: Mapping[str, Any]) -> None:
    """Compile every part, so a syntax error is caught when the draft is saved."""
    errors: dict[str, list[str]] = {}
    for name, _kind, source in iter_sources(parts):
        try:
            check_syntax(source, part=name)
            used_blocks(source, part=name)
        except TemplateProblem as exc:
            errors.update(_problem(name, exc))
    if errors:
        raise ValidationFailed(errors)


def slot_shape_errors(slots: Any) -> dict[str, list[str]]:
    """What makes slot definitions incomplete: not objects, unknown fields, missing text."""
    if not isinstance(slots, list):
        return {"ai_slots": ["must be a list"]}
    errors: dict[str, list[str]] = {}
    for index, slot in enumerate(slots):
        where = f"ai_slots.{index}"
        if not isinstance(slot, dict):
            errors[where] = ["must be an object"]
            continue
        unknown = sorted(set(slot) - SLOT_FIELDS)
        if unknown:
            errors[where] = [f"unknown fields: {', '.join(unknown)}"]
        for field in ("name", "instruction", "fallback"):
            if not isinstance(slot.get(field), str) or not slot[field].strip():
                errors[f"{where}.{field}"] = ["is required"]
    return errors


def check_slot_shapes(slots: Any) -> list[dict[str, Any]]:
    """AI slot definitions a draft can hold: objects of known fields, their text as text.

    An incomplete slot (no name yet, a bound that is not a number) is kept, so an author's work
    is saved; submitting refuses it (`hcs.ai.slots.check_slots`).
    """
    if not isinstance(slots, list):
        raise ValidationFailed({"ai_slots": ["must be a list"]})
    errors: dict[str, list[str]] = {}
    for index, slot in enumerate(slots):
        where = f"ai_slots.{index}"
        if not isinstance(slot, dict):
            errors[where] = ["must be an object"]
        elif set(slot) - SLOT_FIELDS:
            errors[where] = [f"unknown fields: {', '.join(sorted(set(slot) - SLOT_FIELDS))}"]
        else:
            errors.update(_text_errors(where, slot))
    if errors:
        raise ValidationFailed(errors)
    return [{**{f: "" for f in ("name", "instruction", "fallback")}, **slot} for slot in slots]


def _text_errors(where: str, slot: dict[str, Any]) -> dict[str, list[str]]:
    text = ("name", "instruction", "fallback", "tone", "on_failure")
    return {
        f"{where}.{field}": ["must be text"]
        for field in text
        if field in slot and not isinstance(slot[field], str)
    }


def undeclared_variables(version: TemplateVersion) -> dict[str, list[str]]:
    """Each part that reads a variable the version does not declare."""
    declared = {v["name"] for v in version.variables} | {s["name"] for s in version.ai_slots}
    errors: dict[str, list[str]] = {}
    for name, kind, source in iter_sources(version.parts):
        if kind == "css":
            continue
        unknown = sorted(used_variables(source, part=name) - declared)
        if unknown:
            listed = ", ".join(repr(u) for u in unknown)
            errors[f"parts.{name}"] = [f"uses undeclared variable {listed}"]
    return errors


def _repeats(blocks: list[dict[str, Any]], where: str) -> Iterator[tuple[str, str]]:
    for index, block in enumerate(blocks):
        here = f"{where}.{index}"
        if block["type"] == "repeat":
            yield f"{here}.variable", block["variable"]
        for inner in CONTAINERS.get(block["type"], ()):
            yield from _repeats(block.get(inner) or [], f"{here}.{inner}")


def visual_problems(version: TemplateVersion) -> dict[str, list[str]]:
    """A visual part's repeated sections each go over a variable declared as a list."""
    lists = {v["name"] for v in version.variables if v.get("type") == "list"}
    errors: dict[str, list[str]] = {}
    for locale, fields in sorted(version.parts.get("email", {}).items()):
        document = fields.get("blocks")
        where = f"parts.email.{locale}.blocks.blocks"
        for path, name in _repeats(document["blocks"] if document else [], where):
            if "." not in name and name not in lists:
                errors[path] = [f"{name!r} is not a list variable"]
    return errors


def _sample_errors(version: TemplateVersion) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The default sample set loaded, and what is wrong with it or any named set."""
    loaded: dict[str, Any] | None = None
    errors: dict[str, list[str]] = {}
    for name, values in sample_sets(version.sample_data).items():
        prefix = "sample_data" if name == DEFAULT_SET else f"sample_sets.{name}"
        try:
            payload = load_payload(version.variables, values)
        except ValidationFailed as exc:
            errors.update({prefix + k.removeprefix("data"): v for k, v in exc.errors.items()})
            continue
        loaded = payload if name == DEFAULT_SET else loaded
    return loaded, errors


def check_submittable(session: Session, version: TemplateVersion) -> None:
    """Refuse a version that lacks parts, reads undeclared variables or fails on its samples."""
    template = version.template
    errors = missing_required(version.parts, template.channels, template.default_locale)
    errors.update(undeclared_variables(version))
    errors.update(visual_problems(version))
    sample, sample_errors = _sample_errors(version)
    errors.update(sample_errors)
    if not errors and sample is not None:
        for problem in render_all(session, version, sample):
            errors.update(_problem(problem.part, problem))
    if errors:
        raise ValidationFailed(errors)
