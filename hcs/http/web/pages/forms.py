"""The editor's forms for variables, sample sets and AI slots, read back into the API's shapes.

Each row posts fields such as `variables.0.name`; a row left blank is no row. The JSON fields
the editor posted before (`variables`, `sample_data`, `ai_slots`) are still read when present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from werkzeug.datastructures import MultiDict

from templates_store.samples import DEFAULT_SET, joined, sample_sets

VARIABLE_KEYS = ("name", "type", "example", "data_class", "description")
SLOT_TEXT = ("name", "instruction", "tone", "fallback", "on_failure")
# Types whose sample values and examples are typed as JSON (a number, a list, an object ...).
JSON_TYPES = ("integer", "number", "boolean", "list", "object", "money")
Errors = dict[str, list[str]]


def _rows(form: MultiDict[str, str], prefix: str) -> Iterator[str]:
    """The row indexes posted under `prefix.` in the order they appear."""
    seen: list[str] = []
    for name in form:
        pieces = name.split(".")
        if len(pieces) >= 3 and pieces[0] == prefix and pieces[1] not in seen:
            seen.append(pieces[1])
    yield from seen


def typed(text: str, kind: str) -> Any:
    """A value typed into a form, as the variable's type holds it (text when it does not parse)."""
    if kind not in JSON_TYPES:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text  # the schema names what is wrong with it


def as_text(value: Any) -> str:
    """A stored value shown in a text field."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def variables_from(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The variable rows, in order; a row without a name is no row."""
    found = []
    for row in _rows(form, "variables"):
        entry = {k: form.get(f"variables.{row}.{k}", "").strip() for k in VARIABLE_KEYS}
        if not entry["name"]:
            continue
        declared: dict[str, Any] = {
            "name": entry["name"],
            "type": entry["type"] or "string",
            "required": form.get(f"variables.{row}.required") == "on",
            "data_class": entry["data_class"] or "none",
        }
        if entry["example"]:
            declared["example"] = typed(entry["example"], declared["type"])
        if entry["description"]:
            declared["description"] = entry["description"]
        found.append(declared)
    return found


def _set_values(form: MultiDict[str, str], row: str, kinds: dict[str, str]) -> dict[str, Any]:
    values = {}
    for name, kind in kinds.items():
        text = form.get(f"samples.{row}.values.{name}", "")
        if kind == "boolean" and text in ("true", "false"):
            values[name] = text == "true"
        elif text.strip():
            values[name] = typed(text.strip(), kind)
    return values


def sample_data_from(
    form: MultiDict[str, str], variables: list[dict[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    """The sample sets posted for these variables: the default set and the named ones."""
    kinds = {str(v["name"]): str(v.get("type", "string")) for v in variables}
    default: dict[str, Any] = {}
    named: dict[str, dict[str, Any]] = {}
    errors: Errors = {}
    for row in _rows(form, "samples"):
        name = form.get(f"samples.{row}.name", "").strip()
        values = _set_values(form, row, kinds)
        if row == "0":
            default = values
        elif name and name != DEFAULT_SET and name not in named:
            named[name] = values
        elif name or values:
            errors[f"samples.{row}.name"] = ["each named set needs a name of its own"]
    return joined(default, named), errors


def _lf(text: str) -> str:
    """Typed text with LF line endings (browsers post CRLF), trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _inputs(form: MultiDict[str, str], row: str) -> list[str]:
    return [name for name in form.getlist(f"ai_slots.{row}.inputs") if name]


def ai_slots_from(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The AI slot rows; a row with no name, instruction or fallback is no row."""
    found = []
    for row in _rows(form, "ai_slots"):
        slot: dict[str, Any] = {k: _lf(form.get(f"ai_slots.{row}.{k}", "")) for k in SLOT_TEXT}
        if not (slot["name"] or slot["instruction"] or slot["fallback"]):
            continue
        bound = form.get(f"ai_slots.{row}.max_chars", "").strip()
        slot["max_chars"] = int(bound) if bound.isdigit() else bound
        slot["inputs"] = _inputs(form, row)
        slot["tone"] = slot["tone"] or "friendly"
        slot["on_failure"] = slot["on_failure"] or "fallback"
        found.append(slot)
    return found


def _json(form: MultiDict[str, str], field: str, empty: str, errors: Errors) -> Any:
    try:
        return json.loads(form.get(field, "").strip() or empty)
    except ValueError as exc:
        errors[field] = [f"is not valid JSON: {exc}"]
        return json.loads(empty)


def data_changes(form: MultiDict[str, str]) -> tuple[dict[str, Any], Errors]:
    """Variables, sample data and AI slots as posted: by the forms, or as JSON when given so."""
    errors: Errors = {}
    changes: dict[str, Any] = {}
    if "variables" in form:
        changes["variables"] = _json(form, "variables", "[]", errors)
    else:
        changes["variables"] = variables_from(form)
    if "sample_data" in form:
        changes["sample_data"] = _json(form, "sample_data", "{}", errors)
    else:
        declared = [v for v in changes["variables"] if isinstance(v, dict) and "name" in v]
        changes["sample_data"], found = sample_data_from(form, declared)
        errors.update(found)
    if "ai_slots" in form:
        changes["ai_slots"] = _json(form, "ai_slots", "[]", errors)
    else:
        changes["ai_slots"] = ai_slots_from(form)
    return changes, errors


def variable_rows(variables: Any) -> list[dict[str, Any]]:
    """The variable rows to show, and one blank row to add a variable."""
    shown = [v for v in variables if isinstance(v, dict)] if isinstance(variables, list) else []
    rows = [{**v, "example": as_text(v.get("example"))} for v in shown]
    return rows + [{"name": "", "type": "string", "required": False, "data_class": "none"}]


def sample_rows(sample_data: Any) -> list[dict[str, Any]]:
    """The sample sets to show (the default one first), and one blank set to add one."""
    stored = sample_data if isinstance(sample_data, dict) else {}
    rows = [
        {"name": name, "values": {k: as_text(v) for k, v in values.items()}}
        for name, values in sample_sets(stored).items()
    ]
    return rows + [{"name": "", "values": {}}]


def slot_rows(slots: Any) -> list[dict[str, Any]]:
    """The AI slot rows to show, and one blank row to add a slot."""
    shown = [s for s in slots if isinstance(s, dict)] if isinstance(slots, list) else []
    blank = {"name": "", "instruction": "", "inputs": [], "max_chars": 300, "fallback": ""}
    return [{**s, "max_chars": as_text(s.get("max_chars"))} for s in shown] + [blank]
