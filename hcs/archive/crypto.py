"""Envelope encryption for the archive: master key → data subject's key → entry's key → fields.

AES-256-GCM throughout (`cryptography`). The master key wraps one key per data subject; a
subject's key wraps one key per entry; an entry's key encrypts its output, recipient, data, AI
provenance and delivery events. Destroying a subject's wrapped key makes every entry of that
subject unreadable (erasure); deleting an entry's wrapped key makes that entry unreadable
(retention). Each ciphertext is bound to what it belongs to by its associated data.

The master key also wraps the key of recipient lookups (`hcs.archive.lookups`). Rotating the
master key (`hcs.archive.rotation`) re-wraps those two kinds of key and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hcs.archive.errors import ArchiveKeyError
from hcs.infrastructure.config import Settings, load_settings

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
    return encryptor(key)(plaintext, aad)


def encryptor(key: bytes) -> Callable[[bytes, str], bytes]:
    """`encrypt` under one key, its cipher set up once for the several parts of an entry."""
    cipher = AESGCM(key)

    def seal(plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)  # a fresh nonce for every value
        return nonce + cipher.encrypt(nonce, plaintext, aad.encode())

    return seal


def decrypt(key: bytes, sealed: bytes, aad: str) -> bytes:
    """The plaintext of `sealed`; ArchiveKeyError when the key or the bytes do not match."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad.encode())
    except InvalidTag as exc:
        raise ArchiveKeyError(f"cannot decrypt {aad}: wrong key or altered bytes") from exc


# Built once: the write path encodes several values for every archived output.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """Plain JSON data (`hcs.sealing.jsonable`) as canonical JSON: sorted keys, no spaces, UTF-8.

    The same bytes `hcs.sealing.digest` hashes for such data.
    """
    return _CANONICAL.encode(value).encode()


def encrypt_json(key: bytes, value: Any, aad: str) -> bytes:
    """`value` as canonical JSON, encrypted."""
    return encrypt(key, canonical_json(value), aad)


def decrypt_json(key: bytes, sealed: bytes, aad: str) -> Any:
    """The JSON value `encrypt_json` sealed."""
    return json.loads(decrypt(key, sealed, aad))


def key_id(master: bytes) -> str:
    """A master key's id: a short SHA-256 fingerprint, stored next to what it wraps."""
    return hashlib.sha256(b"hcs.archive.master-id\0" + master).hexdigest()[:16]


def derived_lookup_key(master: bytes) -> bytes:
    """The recipient lookup key a master key gives an archive that has stored none."""
    return _derive(master, "hcs.archive.recipient-lookup")


LOOKUP_KEY_AAD = "hcs.archive:lookup-key"


@dataclass(frozen=True)
class Keyring:
    """The current master key, earlier ones kept for reading, and the recipient lookup key."""

    master: bytes = field(repr=False)
    lookup_key: bytes = field(repr=False)
    # Stored next to each wrapped key: the master key that opens it is found by this id.
    master_id: str
    # Earlier master keys, newest first: they only unwrap, until `hcs archive rotate-key`.
    previous: tuple[bytes, ...] = field(default=(), repr=False)

    @classmethod
    def from_master(cls, master: bytes, previous: tuple[bytes, ...] = ()) -> Keyring:
        """A keyring around a 32-byte master key (and earlier ones, for reading)."""
        for key in (master, *previous):
            if len(key) != KEY_BYTES:
                raise ArchiveKeyError(f"the archive master key must be {KEY_BYTES} bytes")
        return cls(master, derived_lookup_key(master), key_id(master), previous)

    @property
    def master_ids(self) -> tuple[str, ...]:
        """The ids of every configured master key, the current one first."""
        return (self.master_id, *(key_id(key) for key in self.previous))

    def master_for(self, master_id: str) -> bytes:
        """The configured master key with that id; ArchiveKeyError naming it when there is none."""
        if master_id == self.master_id:
            return self.master
        for key in self.previous:
            if key_id(key) == master_id:
                return key
        raise ArchiveKeyError(
            f"this key was wrapped under master key {master_id}, which is not configured "
            f"(current {self.master_id}); add it to HCS_ARCHIVE_PREVIOUS_MASTER_KEYS"
        )

    def with_lookup_key(self, lookup_key: bytes) -> Keyring:
        """The same master keys with the archive's own lookup key."""
        return replace(self, lookup_key=lookup_key)

    def lookup(self, recipient_key: str) -> str:
        """The keyed hash that finds a recipient's entries without storing the address."""
        normal = recipient_key.strip()
        # Emails are compared case-insensitively everywhere in HCS.
        normal = normal.lower() if "@" in normal else normal
        return hmac.new(self.lookup_key, normal.encode(), hashlib.sha256).hexdigest()

    def wrap_subject_key(self, key: bytes, lookup: str) -> bytes:
        """A data subject's key, encrypted under the current master key."""
        return encrypt(self.master, key, f"subject:{lookup}")

    def unwrap_subject_key(self, wrapped: bytes, lookup: str, master_id: str) -> bytes:
        """A data subject's key, opened by the master key that wrapped it."""
        return decrypt(self.master_for(master_id), wrapped, f"subject:{lookup}")

    def wrap_lookup_key(self, key: bytes) -> bytes:
        """The lookup key, encrypted under the current master key."""
        return encrypt(self.master, key, LOOKUP_KEY_AAD)

    def unwrap_lookup_key(self, wrapped: bytes, master_id: str) -> bytes:
        """The stored lookup key, opened by the master key that wrapped it."""
        return decrypt(self.master_for(master_id), wrapped, LOOKUP_KEY_AAD)


def _decode_key(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArchiveKeyError(f"{name} is not valid base64") from exc


def _development_key(settings: Settings) -> bytes:
    return _derive(settings.secret_key.encode(), "hcs.archive.development-master-key")


def master_key(settings: Settings) -> bytes:
    """`HCS_ARCHIVE_MASTER_KEY` (base64), or a development key derived from the secret key."""
    if settings.archive_master_key:
        return _decode_key(settings.archive_master_key, "HCS_ARCHIVE_MASTER_KEY")
    _warn_development_key()
    return _development_key(settings)


def previous_master_keys(settings: Settings) -> tuple[bytes, ...]:
    """`HCS_ARCHIVE_PREVIOUS_MASTER_KEYS`: comma-separated base64 keys, newest first.

    `development` stands for the development key derived from `HCS_SECRET_KEY`, so an archive
    begun without a master key can be rotated onto one.
    """
    values = [value.strip() for value in settings.archive_previous_master_keys.split(",")]
    return tuple(
        _development_key(settings)
        if value == "development"
        else _decode_key(value, f"HCS_ARCHIVE_PREVIOUS_MASTER_KEYS (key {n})")
        for n, value in enumerate(values, 1)
        if value
    )


@lru_cache(maxsize=1)
def _warn_development_key() -> None:
    log.warning(
        "HCS_ARCHIVE_MASTER_KEY is not set: the archive uses a development key derived from "
        "HCS_SECRET_KEY; set a master key of its own in production"
    )


@lru_cache(maxsize=8)
def _keyring(master: bytes, previous: tuple[bytes, ...]) -> Keyring:
    return Keyring.from_master(master, previous)


def keyring(settings: Settings) -> Keyring:
    """The archive's keyring for `settings`."""
    return _keyring(master_key(settings), previous_master_keys(settings))


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
