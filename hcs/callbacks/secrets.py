"""Endpoint secrets: made at random, shown once, sealed at rest under the archive's master key.

A signing secret must be readable to sign, so it cannot be only hashed: it is encrypted with
AES-GCM under a key derived (HKDF) from the archive's master key, bound to its endpoint. Rotating
the master key leaves earlier secrets readable through the keyring's previous keys.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hcs.archive.crypto import Keyring, decrypt, encrypt

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh `whsec_` secret (base64 of 32 random bytes), as Standard Webhooks writes them."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(master: bytes) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hcs.webhooks.secret")
    return kdf.derive(master)


def seal(keys: Keyring, endpoint_id: str, secret: str) -> bytes:
    """`secret` encrypted for storage on endpoint `endpoint_id` (with `keys.master_id`)."""
    return encrypt(_key(keys.master), secret.encode(), f"webhook-secret:{endpoint_id}")


def unseal(keys: Keyring, endpoint_id: str, sealed: bytes, master_id: str) -> str:
    """The secret `seal` stored; ArchiveKeyError when its master key is not configured."""
    master = keys.master_for(master_id)
    return decrypt(_key(master), sealed, f"webhook-secret:{endpoint_id}").decode()
