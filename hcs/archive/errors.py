"""The archive's errors; `hcs.http.error_handlers` maps their bases to HTTP."""

from __future__ import annotations

from hcs.errors import HcsError
from templates_store.errors import Conflict, NotFound


class ArchiveKeyError(HcsError):
    """A key that is missing, malformed, or does not open what it should."""


class EntryNotFound(NotFound):
    """No archive entry with that id or message id."""


class OnLegalHold(Conflict):
    """An erasure or purge that would touch entries under legal hold."""


class AlreadyArchived(Conflict):
    """A second archive entry for a message that already has one."""


class NoCheckpoint(NotFound):
    """No signed checkpoint yet (no signing key configured, or nothing sealed)."""
