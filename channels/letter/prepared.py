"""A finished letter: the PDF exactly as it will be printed, with what the print house needs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PreparedLetter:
    """A complete PDF for one recipient."""

    reference: str
    address: tuple[str, ...]
    pdf: bytes
    pages: int
    page_size: str
    pdf_variant: str | None
    warnings: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        """The PDF's digest, for manifests and the archive."""
        return hashlib.sha256(self.pdf).hexdigest()
