"""A print-house drop folder, safe on storage several worker hosts share (NFS and the like).

Each letter is two files in ``<directory>``: ``<reference>.pdf`` and, once the PDF is whole,
its manifest ``<reference>.json`` (file, reference, sha256, pages, page size, variant,
address, product, and the writer's host and process). Both are written under a name of the
writer's own and renamed into place, so the print house, polling for ``*.json``, only ever
sees complete letters. No file is shared between writers: appending to one manifest from
several hosts is not atomic over NFS.
"""

from __future__ import annotations

from pathlib import Path

from channels.core import SendResult
from channels.errors import ChannelError
from channels.files import safe_name, write_atomically, write_json_atomically, writer
from channels.letter.prepared import PreparedLetter

MANIFEST_SUFFIX = ".json"


class FolderLetter:
    """Drops letters, each with its own manifest, for a print house."""

    name = "folder"

    def __init__(self, directory: Path | str, *, product: str = "letter") -> None:
        self.directory = Path(directory)
        self.product = product

    def send(self, prepared: PreparedLetter) -> SendResult:
        """Write the PDF, then its manifest; the id is the PDF's file name."""
        stem = safe_name(prepared.reference)
        file_name = f"{stem}.pdf"
        try:
            write_atomically(self.directory / file_name, prepared.pdf)
        except OSError as exc:
            raise ChannelError(f"cannot write {file_name}: {exc}") from exc
        write_json_atomically(self.directory / f"{stem}{MANIFEST_SUFFIX}", self._record(prepared))
        return SendResult(self.name, file_name, detail={"sha256": prepared.sha256})

    def _record(self, prepared: PreparedLetter) -> dict[str, object]:
        return {
            "file": f"{safe_name(prepared.reference)}.pdf",
            "reference": prepared.reference,
            "sha256": prepared.sha256,
            "pages": prepared.pages,
            "page_size": prepared.page_size,
            "pdf_variant": prepared.pdf_variant,
            "address": list(prepared.address),
            "product": self.product,
            "written_by": writer(),
        }
