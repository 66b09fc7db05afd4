"""Writing outbox files: whole files atomically, JSON lines appended in one write."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from channels.errors import ChannelError


def safe_name(reference: str) -> str:
    """A file name made from a message reference, refusing path tricks."""
    if not reference or any(c in reference for c in "/\\\0") or reference.startswith("."):
        raise ChannelError(f"reference {reference!r} cannot name an outbox file")
    return reference


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def append_json_line(path: Path, record: Mapping[str, Any]) -> None:
    """Append `record` as one line; a single write keeps concurrent lines whole."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise ChannelError(f"cannot append to {path}: {exc}") from exc
