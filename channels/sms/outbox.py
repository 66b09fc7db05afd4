"""The embedded default: each SMS becomes one JSON line in `<directory>/sms.jsonl`."""

from __future__ import annotations

from pathlib import Path

from channels.core import SendResult
from channels.files import append_json_line
from channels.sms.message import PreparedSms


class OutboxSms:
    """Writes one JSON line per SMS."""

    name = "outbox"

    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / "sms.jsonl"

    def send(self, prepared: PreparedSms) -> SendResult:
        """Append the message; its id is the reference."""
        append_json_line(self.path, prepared.as_record())
        return SendResult(self.name, prepared.reference, detail={"path": str(self.path)})
