"""Sample data: the set a version previews with by default, and named sets beside it.

Stored in the version's `sample_data`: the default set's values at the top level (as before), and
the named sets under `@sets`, a key no variable can be named, so older readers see one set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from templates_store.errors import ValidationFailed

SETS_KEY = "@sets"
DEFAULT_SET = "Default"
MAX_SETS = 20
MAX_SET_NAME = 60


def default_sample(sample_data: Mapping[str, Any]) -> dict[str, Any]:
    """The default set: every value but the named sets."""
    return {name: value for name, value in sample_data.items() if name != SETS_KEY}


def named_sets(sample_data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The named sets (not the default one), by name."""
    sets = sample_data.get(SETS_KEY)
    return {str(k): dict(v) for k, v in sets.items()} if isinstance(sets, Mapping) else {}


def sample_sets(sample_data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every set a version previews with, the default one first."""
    return {DEFAULT_SET: default_sample(sample_data)} | named_sets(sample_data)


def sample_named(sample_data: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    """The set called `name` (the default one when None or unknown)."""
    return sample_sets(sample_data).get(name or DEFAULT_SET) or default_sample(sample_data)


def joined(default: Mapping[str, Any], named: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A `sample_data` value from the default set and the named ones."""
    stored = dict(default)
    if named:
        stored[SETS_KEY] = {name: dict(values) for name, values in named.items()}
    return stored


def check_sample_data(value: Any) -> dict[str, Any]:
    """A `sample_data` object whose named sets (if any) are objects with short, unique names."""
    if not isinstance(value, dict):
        raise ValidationFailed({"sample_data": ["must be an object"]})
    sets = value.get(SETS_KEY, {})
    if not isinstance(sets, dict) or not all(isinstance(v, dict) for v in sets.values()):
        raise ValidationFailed({f"sample_data.{SETS_KEY}": ["must map set names to objects"]})
    errors = {
        f"sample_sets.{name}": [f"a set name is 1 to {MAX_SET_NAME} characters, not 'Default'"]
        for name in sets
        if not name.strip() or len(name) > MAX_SET_NAME or name == DEFAULT_SET
    }
    if len(sets) > MAX_SETS:
        errors["sample_sets"] = [f"at most {MAX_SETS} named sets"]
    if errors:
        raise ValidationFailed(errors)
    if not sets:
        return default_sample(value)
    return dict(value)
