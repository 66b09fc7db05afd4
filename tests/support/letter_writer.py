"""A worker process's letter writes, for the shared-folder test: `python -m ... DIR NAME COUNT`."""

from __future__ import annotations

import os
import sys

from channels.letter.folder import FolderLetter
from channels.letter.prepared import PreparedLetter

PDF_BYTES = 256 * 1024  # large enough that two writers' bytes would interleave if shared


def letter(name: str, n: int) -> PreparedLetter:
    """A letter of this writer's, with a body only this writer writes."""
    body = b"%PDF-1.7\n" + os.urandom(PDF_BYTES) + b"\n%%EOF\n"
    return PreparedLetter(f"{name}-{n}", ("Ana Ruiz", "1 High St"), body, 1, "A4", None)


def main(directory: str, name: str, count: int) -> None:
    """Write `count` letters into `directory`, as one worker process would."""
    folder = FolderLetter(directory)
    for n in range(count):
        folder.send(letter(name, n))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
