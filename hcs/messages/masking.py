"""Recipients as shown to people who may see that a message went out, but not to whom."""

from __future__ import annotations

from typing import Any

HIDDEN = "•••"


def mask_value(value: str) -> str:
    """An address with all but a hint hidden: `a•••@example.com`, `•••42`, `A•••`."""
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}{HIDDEN}@{domain}"
    if value.startswith("+") or value.replace(" ", "").isdigit():
        return f"{HIDDEN}{value[-2:]}"
    return f"{value[:1]}{HIDDEN}" if value else ""


def mask_recipient(to: dict[str, Any]) -> dict[str, str]:
    """Every field of a recipient masked; nested values (a postal address) hidden whole."""
    return {name: mask_value(v) if isinstance(v, str) else HIDDEN for name, v in to.items()}
