"""Typed settings objects read from environment variables, each default written once.

A settings class is a frozen dataclass whose fields are declared with `env(NAME, default)`;
`read(cls, environ)` builds it from the variables that are set and leaves the rest at their
defaults. Values are parsed by the field's annotation (`str`, `int`, `float`, `bool`, `Path`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

T = TypeVar("T")

# A bool is on unless its variable says otherwise (HCS_SMTP_STARTTLS=0 turns STARTTLS off).
FALSE_WORDS = ("0", "false", "no")


def env(name: str, default: T, *, secret: bool = False, required: bool = False) -> T:
    """A field read from the variable `name`; `secret`: kept out of repr; `required`: to build."""
    metadata = {"env": name, "required": required}
    return field(default=default, repr=not secret, metadata=metadata)


def _parse(raw: str, annotation: Any) -> object:
    kinds = set(getattr(annotation, "__args__", ())) - {type(None)} or {annotation}
    kind = next(iter(kinds))
    if kind is bool:
        return raw not in FALSE_WORDS
    if kind in (int, float, Path):
        return kind(raw)
    return raw


def read(cls: type[T], environ: Mapping[str, str], *, prefix: str = "") -> T:
    """`cls` built from the set variables of `environ` (names are `prefix` + the field's name)."""
    assert is_dataclass(cls)
    hints = get_type_hints(cls)
    values: dict[str, object] = {}
    for item in fields(cls):
        if "env" not in item.metadata:
            continue
        name = prefix + item.metadata["env"]
        raw = environ.get(name, "").strip()
        if raw:
            try:
                values[item.name] = _parse(raw, hints[item.name])
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not a valid {hints[item.name]}") from exc
    return cls(**values)


def variable(cls: type[Any], attribute: str, *, prefix: str = "") -> str:
    """The environment variable a settings field is read from (for error messages)."""
    item: Field[Any] = next(f for f in fields(cls) if f.name == attribute)
    return prefix + str(item.metadata["env"])


def missing(settings: object) -> list[str]:
    """The variables of required fields that `settings` has left empty."""
    return [
        str(item.metadata["env"])
        for item in fields(settings)  # type: ignore[arg-type]
        if item.metadata.get("required") and not getattr(settings, item.name)
    ]


def values(settings: object) -> dict[str, Any]:
    """The fields of a settings object by name (shallow, unlike `dataclasses.asdict`)."""
    return {item.name: getattr(settings, item.name) for item in fields(settings)}  # type: ignore[arg-type]
