"""The embedded default: every email is written as a real .eml file under the outbox folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from channels.core import SendResult
from channels.email.message import PreparedEmail, to_eml
from channels.errors import ChannelError
from channels.files import safe_name, write_atomically


class OutboxEmail:
    """Writes `<directory>/email/<reference>.eml`."""

    name = "outbox"
    batch_size = 500

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

    def batch_key(self, prepared: PreparedEmail) -> object | None:
        """Any messages may share a call: each is its own file."""
        return self.name

    def send_many(self, prepared: Sequence[PreparedEmail]) -> list[SendResult]:
        """Write several messages, each whole; the call fails at the first that cannot be."""
        return [self.send(one) for one in prepared]
