"""The archive's errors, defined in the application's one tree (`hcs.errors`)."""

from __future__ import annotations

from hcs.errors import AlreadyArchived, ArchiveKeyError, EntryNotFound, NoCheckpoint, OnLegalHold

__all__ = ["AlreadyArchived", "ArchiveKeyError", "EntryNotFound", "NoCheckpoint", "OnLegalHold"]
