"""A print-house drop folder: each letter's PDF plus one manifest line describing it.

The print house polls ``<directory>``: a PDF appears whole (written under a temporary name, then
renamed) before its line is appended to ``manifest.jsonl``, so a listed letter is always complete.
"""

from __future__ import annotations

from pathlib import Path

from channels.core import SendResult
from channels.errors import ChannelError
from channels.files import append_json_line, safe_name, write_atomically
from channels.letter.prepared import PreparedLetter


class FolderLetter:
    """Drops letters and a JSON-lines manifest for a print house."""

    name = "folder"

    def __init__(self, directory: Path | str, *, product: str = "letter") -> None:
        self.directory = Path(directory)
        self.product = product

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Write the PDF, then its manifest line; the id is the file name."""
        file_name = f"{safe_name(prepared.reference)}.pdf"
        try:
            write_atomically(self.directory / file_name, prepared.pdf)
        except OSError as exc:
            raise ChannelError(f"cannot write {file_name}: {exc}") from exc
        record = {
            "file": file_name,
            "reference": prepared.reference,
            "sha256": prepared.sha256,
            "pages": prepared.pages,
            "page_size": prepared.page_size,
            "pdf_variant": prepared.pdf_variant,
            "address": list(prepared.address),
            "product": self.product,
        }
        append_json_line(self.directory / "manifest.jsonl", record)
        return SendResult(self.name, file_name, detail={"sha256": prepared.sha256})
