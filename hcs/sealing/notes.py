"""Ed25519 signed notes (C2SP signed-note) carrying checkpoints (C2SP tlog-checkpoint).

A checkpoint's text is the log's origin, the tree size, the root hash (base64) and extension
lines (here the time, and any further tree the log signs along), each ending in a newline. The
note is that text, a blank line, and one line per signature: an em dash, the key's name, and
base64 of the 4-byte key id followed by the 64-byte signature over the text. A verifier key is
written `name+keyid(hex)+base64(0x01 || public key)`, as Go's `golang.org/x/mod/sumdb/note`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hcs.errors import NoteError

ED25519 = b"\x01"
DASH = "\u2014 "


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A public key with its name: checks signatures on notes."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        """The 4 bytes that pick this key's signature line."""
        return _key_id(self.name, self.public)

    def text(self) -> str:
        """`name+keyid+base64(0x01||key)`: what auditors keep."""
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """A verifier key from its text form."""
        name, _, rest = text.strip().partition("+")
        key_hex, _, encoded = rest.partition("+")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError("the verifier key is not name+keyid+base64") from exc
        verifier = cls(_check_name(name), raw[1:])
        if raw[:1] != ED25519 or len(raw) != 33 or verifier.key_id.hex() != key_hex:
            raise NoteError("the verifier key is not an Ed25519 key of that name")
        return verifier

    def open(self, note: str) -> str:
        """The text of a note this key signed; NoteError when it did not."""
        text, _, signatures = note.partition("\n\n")
        text += "\n"
        key = Ed25519PublicKey.from_public_bytes(self.public)
        for line in signatures.splitlines():
            if not line.startswith(DASH + self.name + " "):
                continue
            try:
                raw = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
            except ValueError:
                continue
            if raw[:4] != self.key_id:
                continue
            try:
                key.verify(raw[4:], text.encode())
            except InvalidSignature:
                continue
            return text
        raise NoteError(f"the note carries no valid signature by {self.name}")


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key with its name: signs notes."""

    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        """The matching public key."""
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end in a newline)."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        raw = self.verifier.key_id + self.private.sign(text.encode())
        return f"{text}\n{DASH}{self.name} {base64.b64encode(raw).decode()}\n"


def create_key_file(path: Path, name: str) -> Signer:
    """A new signing key in `path`, readable by its owner only; refuses to overwrite."""
    signer = Signer(_check_name(name), Ed25519PrivateKey.generate())
    seed = signer.private.private_bytes_raw()
    line = f"PRIVATE+KEY+{name}+{signer.verifier.key_id.hex()}+"
    line += base64.b64encode(ED25519 + seed).decode() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise NoteError(f"{path} exists already; it is never overwritten") from exc
    with os.fdopen(descriptor, "w") as stream:
        stream.write(line)
    return signer


def load_key_file(path: Path) -> Signer:
    """The signing key in `path` (written by `create_key_file`)."""
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise NoteError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    parts = text.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError(f"{path} is not a signing key written by `hcs keys init`")
    raw = base64.b64decode(parts[4])
    signer = Signer(_check_name(parts[2]), Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if raw[:1] != ED25519 or signer.verifier.key_id.hex() != parts[3]:
        raise NoteError(f"{path} does not hold the key its name says")
    return signer
