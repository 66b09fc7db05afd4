"""The embedded default: every email is written as a real .eml file under the outbox folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from channels.core import SendResult
from channels.email.message import PreparedEmail, to_eml
from channels.errors import ChannelError, TransientChannelError
from channels.files import PartlyWritten, safe_name, write_many_atomically


class OutboxEmail:
    """Writes `<directory>/email/<reference>.eml`."""

    name = "outbox"
    batch_size = 500

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory) / "email"

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Write the message; its id is the reference."""
        return self.send_many([prepared])[0]

    def _path(self, prepared: PreparedEmail) -> Path:
        return self.directory / f"{safe_name(prepared.reference)}.eml"

    def _result(self, prepared: PreparedEmail, path: Path) -> SendResult:
        return SendResult(self.name, prepared.reference, detail={"path": str(path)})

    def batch_key(self, prepared: PreparedEmail) -> object | None:
        """Any messages may share a call: each is its own file."""
        return self.name

    def send_many(self, prepared: Sequence[PreparedEmail]) -> list[SendResult]:
        """Write several messages, each whole: all of them, or (ChannelError) none."""
        files = [(self._path(one), to_eml(one)) for one in prepared]
        try:
            write_many_atomically(files)
        except PartlyWritten as exc:  # some are out: each message of the call is in doubt
            raise TransientChannelError(f"cannot write {self.directory}: {exc}") from exc
        except OSError as exc:
            raise ChannelError(f"cannot write {self.directory}: {exc}") from exc
        return [self._result(one, path) for one, (path, _) in zip(prepared, files, strict=True)]
