"""The embedded default: each chat message becomes one JSON line in `<directory>/chat.jsonl`."""

from __future__ import annotations

from pathlib import Path

from channels.chat.message import PreparedChat
from channels.core import SendResult
from channels.files import append_json_line


class OutboxChat:
    """Writes one JSON line per chat message."""

    name = "outbox"
    addresses_phones = False

    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / "chat.jsonl"

    def send(self, prepared: PreparedChat) -> SendResult:
        """Append the message; its id is the reference."""
        append_json_line(self.path, prepared.as_record())
        return SendResult(self.name, prepared.reference, detail={"path": str(self.path)})
