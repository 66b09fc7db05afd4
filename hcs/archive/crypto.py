"""Envelope encryption for the archive: master key → data subject's key → entry's key → fields.

AES-256-GCM throughout (`cryptography`). The master key wraps one key per data subject; a
subject's key wraps one key per entry; an entry's key encrypts its output, recipient, data, AI
provenance and delivery events. Destroying a subject's wrapped key makes every entry of that
subject unreadable (erasure); deleting an entry's wrapped key makes that entry unreadable
(retention). Each ciphertext is bound to what it belongs to by its associated data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hcs.archive.errors import ArchiveKeyError
from hcs.config import Settings, load_settings

log = logging.getLogger("hcs.archive")
KEY_BYTES = 32
NONCE_BYTES = 12


def _derive(material: bytes, purpose: str) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return kdf.derive(material)


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def encrypt(key: bytes, plaintext: bytes, aad: str) -> bytes:
    """`plaintext` sealed under `key`: a random nonce followed by the AES-GCM ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad.encode())


def decrypt(key: bytes, sealed: bytes, aad: str) -> bytes:
    """The plaintext of `sealed`; ArchiveKeyError when the key or the bytes do not match."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad.encode())
    except InvalidTag as exc:
        raise ArchiveKeyError(f"cannot decrypt {aad}: wrong key or altered bytes") from exc


def encrypt_json(key: bytes, value: Any, aad: str) -> bytes:
    """`value` as canonical JSON, encrypted."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return encrypt(key, text.encode(), aad)


def decrypt_json(key: bytes, sealed: bytes, aad: str) -> Any:
    """The JSON value `encrypt_json` sealed."""
    return json.loads(decrypt(key, sealed, aad))


@dataclass(frozen=True)
class Keyring:
    """The master key and what derives from it: the recipient lookup key and the key's id."""

    master: bytes = field(repr=False)
    lookup_key: bytes = field(repr=False)
    # Stored next to each wrapped key: a different master key then fails with a clear message.
    master_id: str

    @classmethod
    def from_master(cls, master: bytes) -> Keyring:
        """A keyring around a 32-byte master key."""
        if len(master) != KEY_BYTES:
            raise ArchiveKeyError(f"the archive master key must be {KEY_BYTES} bytes")
        ident = hashlib.sha256(b"hcs.archive.master-id\0" + master).hexdigest()[:16]
        return cls(master, _derive(master, "hcs.archive.recipient-lookup"), ident)

    def lookup(self, recipient_key: str) -> str:
        """The keyed hash that finds a recipient's entries without storing the address."""
        normal = recipient_key.strip()
        # Emails are compared case-insensitively everywhere in HCS.
        normal = normal.lower() if "@" in normal else normal
        return hmac.new(self.lookup_key, normal.encode(), hashlib.sha256).hexdigest()

    def wrap_subject_key(self, key: bytes, lookup: str) -> bytes:
        """A data subject's key, encrypted under the master key."""
        return encrypt(self.master, key, f"subject:{lookup}")

    def unwrap_subject_key(self, wrapped: bytes, lookup: str, master_id: str) -> bytes:
        """A data subject's key; refuses one wrapped under another master key."""
        if master_id != self.master_id:
            raise ArchiveKeyError(
                f"this key was wrapped under master key {master_id}, not {self.master_id}"
            )
        return decrypt(self.master, wrapped, f"subject:{lookup}")


def master_key(settings: Settings) -> bytes:
    """`HCS_ARCHIVE_MASTER_KEY` (base64), or a development key derived from the secret key."""
    if settings.archive_master_key:
        try:
            return base64.b64decode(settings.archive_master_key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ArchiveKeyError("HCS_ARCHIVE_MASTER_KEY is not valid base64") from exc
    _warn_development_key()
    return _derive(settings.secret_key.encode(), "hcs.archive.development-master-key")


@lru_cache(maxsize=1)
def _warn_development_key() -> None:
    log.warning(
        "HCS_ARCHIVE_MASTER_KEY is not set: the archive uses a development key derived from "
        "HCS_SECRET_KEY; set a master key of its own in production"
    )


@lru_cache(maxsize=8)
def _keyring(master: bytes) -> Keyring:
    return Keyring.from_master(master)


def keyring(settings: Settings) -> Keyring:
    """The archive's keyring for `settings`."""
    return _keyring(master_key(settings))


@lru_cache(maxsize=1)
def default_keyring() -> Keyring:
    """The keyring of the process's environment, for callers that pass none."""
    return keyring(load_settings())


def digest_bytes(values: Mapping[str, bytes | None]) -> str:
    """One SHA-256 (hex) over named byte strings, as stored."""
    outer = hashlib.sha256()
    for name in sorted(values):
        value = values[name]
        inner = "-" if value is None else hashlib.sha256(value).hexdigest()
        outer.update(f"{name}={inner};".encode())
    return outer.hexdigest()
