"""The archive's envelope encryption: keys, associated data, lookups, the master key's sources."""

from __future__ import annotations

import base64

import pytest

from hcs.archive import crypto
from hcs.archive.crypto import Keyring, keyring, master_key, previous_master_keys
from hcs.archive.errors import ArchiveKeyError
from hcs.infrastructure.config import Settings

KEYS = Keyring.from_master(b"\x05" * 32)


def test_a_ciphertext_opens_only_with_its_key_and_its_associated_data() -> None:
    key = crypto.new_key()
    sealed = crypto.encrypt(key, b"Dear Ana", "msg-1:output")
    assert crypto.decrypt(key, sealed, "msg-1:output") == b"Dear Ana"
    assert b"Dear Ana" not in sealed
    with pytest.raises(ArchiveKeyError):
        crypto.decrypt(key, sealed, "msg-2:output")  # moved to another entry
    with pytest.raises(ArchiveKeyError):
        crypto.decrypt(crypto.new_key(), sealed, "msg-1:output")


def test_the_same_plaintext_encrypts_differently_each_time() -> None:
    key = crypto.new_key()
    assert crypto.encrypt(key, b"x", "a") != crypto.encrypt(key, b"x", "a")


def test_a_subject_key_is_bound_to_its_lookup_and_its_master_key() -> None:
    subject = crypto.new_key()
    wrapped = KEYS.wrap_subject_key(subject, "lookup-a")
    assert KEYS.unwrap_subject_key(wrapped, "lookup-a", KEYS.master_id) == subject
    with pytest.raises(ArchiveKeyError):
        KEYS.unwrap_subject_key(wrapped, "lookup-b", KEYS.master_id)
    other = Keyring.from_master(b"\x06" * 32)
    with pytest.raises(ArchiveKeyError, match="wrapped under master key"):
        other.unwrap_subject_key(wrapped, "lookup-a", KEYS.master_id)


def test_lookups_are_keyed_and_ignore_the_case_of_emails() -> None:
    assert KEYS.lookup("Ana@Example.com ") == KEYS.lookup("ana@example.com")
    assert KEYS.lookup("+447400123456") != KEYS.lookup("+447400123457")
    other = Keyring.from_master(b"\x06" * 32)
    assert other.lookup("ana@example.com") != KEYS.lookup("ana@example.com")
    assert "ana" not in KEYS.lookup("ana@example.com")


def test_the_master_key_comes_from_configuration_or_derives_from_the_secret() -> None:
    configured = Settings(archive_master_key=base64.b64encode(b"\x09" * 32).decode())
    assert master_key(configured) == b"\x09" * 32
    derived = master_key(Settings(secret_key="one"))
    assert len(derived) == 32 and derived == master_key(Settings(secret_key="one"))
    assert derived != master_key(Settings(secret_key="two"))
    assert keyring(Settings(secret_key="one")) is keyring(Settings(secret_key="one"))


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_master_key_is_refused(value: str) -> None:
    with pytest.raises(ArchiveKeyError):
        keyring(Settings(archive_master_key=value))


def test_the_payload_digest_changes_with_any_stored_byte() -> None:
    stored = {"output": b"abc", "data": b"def", "ai": None}
    assert crypto.digest_bytes(stored) == crypto.digest_bytes(dict(reversed(stored.items())))
    assert crypto.digest_bytes(stored) != crypto.digest_bytes({**stored, "output": b"abd"})
    assert crypto.digest_bytes(stored) != crypto.digest_bytes({**stored, "ai": b""})


def test_an_earlier_master_key_still_unwraps_and_the_current_one_wraps() -> None:
    subject = crypto.new_key()
    wrapped = KEYS.wrap_subject_key(subject, "lookup-a")
    rotated = Keyring.from_master(b"\x06" * 32, previous=(b"\x05" * 32,))
    assert rotated.master_ids == (rotated.master_id, KEYS.master_id)
    assert rotated.unwrap_subject_key(wrapped, "lookup-a", KEYS.master_id) == subject
    rewrapped = rotated.wrap_subject_key(subject, "lookup-a")
    with pytest.raises(ArchiveKeyError):
        KEYS.unwrap_subject_key(rewrapped, "lookup-a", KEYS.master_id)
    stranger = Keyring.from_master(b"\x07" * 32)
    with pytest.raises(ArchiveKeyError, match=f"master key {KEYS.master_id}, which is not config"):
        stranger.unwrap_subject_key(wrapped, "lookup-a", KEYS.master_id)


def test_the_previous_master_keys_come_from_configuration_newest_first() -> None:
    old, older = base64.b64encode(b"\x0a" * 32).decode(), base64.b64encode(b"\x0b" * 32).decode()
    settings = Settings(
        secret_key="one",
        archive_master_key=base64.b64encode(b"\x09" * 32).decode(),
        archive_previous_master_keys=f" {old}, {older} ,development",
    )
    development = master_key(Settings(secret_key="one"))
    assert previous_master_keys(settings) == (b"\x0a" * 32, b"\x0b" * 32, development)
    assert keyring(settings).master == b"\x09" * 32
    assert keyring(settings).previous == (b"\x0a" * 32, b"\x0b" * 32, development)
    assert previous_master_keys(Settings()) == ()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_previous_master_key_is_refused_without_echoing_it(value: str) -> None:
    good = base64.b64encode(b"\x0a" * 32).decode()
    settings = Settings(archive_previous_master_keys=f"{good},{value}")
    with pytest.raises(ArchiveKeyError) as refused:
        keyring(settings)
    assert value not in str(refused.value)


def test_the_lookup_key_wraps_under_the_current_master_key_and_opens_after_rotation() -> None:
    wrapped = KEYS.wrap_lookup_key(KEYS.lookup_key)
    rotated = Keyring.from_master(b"\x06" * 32, previous=(b"\x05" * 32,))
    assert rotated.unwrap_lookup_key(wrapped, KEYS.master_id) == KEYS.lookup_key
    with pytest.raises(ArchiveKeyError):
        Keyring.from_master(b"\x06" * 32).unwrap_lookup_key(wrapped, KEYS.master_id)
    kept = rotated.with_lookup_key(KEYS.lookup_key)
    assert kept.lookup("ana@example.com") == KEYS.lookup("ana@example.com")
    assert kept.master_id == rotated.master_id
