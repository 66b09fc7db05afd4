"""The archive: every output exactly as sent, sealed, with personal data encrypted per subject.

See DESIGN.md rule 7. Entries and delivery events are sealed logs (`hcs.sealing`); the output,
the recipient, the data and AI provenance are encrypted under a key per entry, wrapped under a
key per data subject, wrapped under the master key (`hcs.archive.crypto`).
"""

from hcs.archive.crypto import Keyring, default_keyring, keyring
from hcs.archive.erasure import (
    carry_out_deferred,
    erase_recipient,
    list_erasures,
    request_erasure,
)
from hcs.archive.errors import AlreadyArchived, ArchiveKeyError, EntryNotFound, OnLegalHold
from hcs.archive.holds import place_hold, release_hold
from hcs.archive.integrity import (
    SIGNED_LOGS,
    ArchiveVerification,
    is_intact,
    seal_archive,
    verify_archive,
)
from hcs.archive.keys import erased_since
from hcs.archive.lookups import archive_keyring, recipient_lookup
from hcs.archive.models import (
    ArchiveEntry,
    ArchiveEvent,
    ArchivePayload,
    ErasureRequest,
    LegalHold,
    LookupKey,
    SubjectKey,
)
from hcs.archive.reading import (
    OpenedEntry,
    clear_fields,
    describe,
    get_entry,
    open_entry,
    read_entry,
)
from hcs.archive.retention import (
    policy_in_force,
    purge,
    retention_policy,
    seed_retention,
    set_retention,
)
from hcs.archive.rotation import finish_rotation, rewrap_batch, start_rotation
from hcs.archive.search import ArchiveFilters, export_search, search
from hcs.archive.store import (
    Output,
    add_delivery_event,
    archive_output,
    archive_outputs,
    data_digest,
    entry_for_message,
    record_outputs,
)

__all__ = [
    "AlreadyArchived",
    "ArchiveEntry",
    "ArchiveEvent",
    "ArchiveFilters",
    "ArchiveKeyError",
    "ArchivePayload",
    "ArchiveVerification",
    "EntryNotFound",
    "ErasureRequest",
    "Keyring",
    "LegalHold",
    "LookupKey",
    "OnLegalHold",
    "OpenedEntry",
    "SubjectKey",
    "Output",
    "add_delivery_event",
    "archive_keyring",
    "archive_output",
    "archive_outputs",
    "clear_fields",
    "data_digest",
    "default_keyring",
    "describe",
    "entry_for_message",
    "erase_recipient",
    "carry_out_deferred",
    "list_erasures",
    "request_erasure",
    "erased_since",
    "export_search",
    "finish_rotation",
    "get_entry",
    "is_intact",
    "keyring",
    "open_entry",
    "place_hold",
    "purge",
    "read_entry",
    "record_outputs",
    "recipient_lookup",
    "release_hold",
    "retention_policy",
    "policy_in_force",
    "seed_retention",
    "set_retention",
    "rewrap_batch",
    "search",
    "SIGNED_LOGS",
    "seal_archive",
    "start_rotation",
    "verify_archive",
]
