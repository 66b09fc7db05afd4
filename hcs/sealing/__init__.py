"""Tamper evidence for append-only logs: entries hashed as written, sealed later in batches.

Writers insert entries with no lock and no chain: each row carries `entry_hash`, a SHA-256 over a
canonical JSON of its stored columns. A sealer, off the request path, numbers pending entries
(`seq`) in id order and writes one `Seal` per batch whose hash covers the previous seal's hash,
the batch's seq range and the Merkle root (RFC 6962) of its entries' hashes: a chain of batches,
as transparency logs keep. The hash covers stored bytes, so a log that keeps ciphertext still
verifies after its key is erased.
"""

from hcs.errors import AppendOnlyViolation
from hcs.sealing import guard  # noqa: F401  (the append-only guard and hashing on insert)
from hcs.sealing.hashing import digest, jsonable, merkle_root
from hcs.sealing.models import (
    GENESIS,
    Seal,
    SealedMixin,
    make_seal,
    seal_hash,
)
from hcs.sealing.sealer import head, lock_log, seal_pending
from hcs.sealing.verification import Verification, verify

__all__ = [
    "GENESIS",
    "AppendOnlyViolation",
    "Seal",
    "SealedMixin",
    "Verification",
    "digest",
    "head",
    "jsonable",
    "lock_log",
    "make_seal",
    "merkle_root",
    "seal_hash",
    "seal_pending",
    "verify",
]
