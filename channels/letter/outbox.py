"""The embedded default: each letter is written as `<directory>/letters/<reference>.pdf`."""

from __future__ import annotations

from pathlib import Path

from channels.core import SendResult
from channels.errors import ChannelError
from channels.files import safe_name, write_atomically
from channels.letter.prepared import PreparedLetter


class OutboxLetter:
    """Writes one PDF per letter."""

    name = "outbox"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory) / "letters"

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Write the PDF; its id is the reference."""
        path = self.directory / f"{safe_name(prepared.reference)}.pdf"
        try:
            write_atomically(path, prepared.pdf)
        except OSError as exc:
            raise ChannelError(f"cannot write {path}: {exc}") from exc
        return SendResult(self.name, prepared.reference, detail={"path": str(path)})
