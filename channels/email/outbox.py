"""The embedded default: every email is written as a real .eml file under the outbox folder."""

from __future__ import annotations

import os
from pathlib import Path

from channels.core import SendResult
from channels.email.message import PreparedEmail, to_eml
from channels.errors import ChannelError


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def safe_name(reference: str) -> str:
    """A file name made from a message reference, refusing path tricks."""
    if not reference or any(c in reference for c in "/\\\0") or reference.startswith("."):
        raise ChannelError(f"reference {reference!r} cannot name an outbox file")
    return reference


class OutboxEmail:
    """Writes `<directory>/email/<reference>.eml`."""

    name = "outbox"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory) / "email"

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Write the message; its id is the reference."""
        path = self.directory / f"{safe_name(prepared.reference)}.eml"
        try:
            write_atomically(path, to_eml(prepared))
        except OSError as exc:
            raise ChannelError(f"cannot write {path}: {exc}") from exc
        return SendResult(self.name, prepared.reference, detail={"path": str(path)})
