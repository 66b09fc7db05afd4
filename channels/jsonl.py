"""Appending one JSON document per line, as the SMS and chat outboxes do."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from channels.errors import ChannelError


def append_json_line(path: Path, record: dict[str, Any]) -> None:
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
