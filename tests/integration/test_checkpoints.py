"""Signed checkpoints against a database administrator: truncation, deletion, rewrites, reorders.

Each attack edits the database as someone with SQL access would, recomputing every hash and
seal the chain holds; `hcs archive verify` alone then passes, and `--checkpoint` must not. The
checkpoint's signature and the inclusion proofs are checked here with our own Ed25519 and
RFC 9162 code (tests/unit/test_merkle_proofs.py), not with HCS's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, text
from werkzeug import Request, Response

from hcs.archive import ArchiveEntry, ArchiveEvent, add_delivery_event
from hcs.audit import AuditEntry, record
from hcs.cli import main
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory, transaction
from hcs.infrastructure.destinations import DestinationRefused
from hcs.sealing import Seal, merkle_root, seal_hash
from hcs.sealing.leaves import first_unsigned, sign_new_leaves
from hcs.sealing.models import SealedMixin
from hcs.sealing.notes import load_key_file
from hcs.sealing.witness import Checkpointing, checkpointing
from hcs.worker.runtime import housekeeping
from tests.support.archive import KEYS, make_entry
from tests.support.mail import PlainSmtpSink, run_plain_smtp
from tests.support.merkle import rfc_verify_inclusion
from tests.support.server import free_port
from tests.support.world import add_people, running, settings_for

MASTER = base64.b64encode(hashlib.sha256(b"archive tests").digest()).decode()


class World:
    """A migrated database, a signing key, a witness folder, and the `hcs` command on them."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.key, self.witness = url, tmp / "keys" / "seal.key", tmp / "worm"
        self.engine: Engine = make_engine(url)
        self.env = {
            "HCS_DATABASE_URL": url,
            "HCS_ARCHIVE_MASTER_KEY": MASTER,
            "HCS_SEAL_SIGNING_KEY": str(self.key),
            "HCS_CHECKPOINT_WITNESS": str(self.witness),
            "HCS_PUBLIC_URL": "https://hcs.example",
        }

    def hcs(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=self.env)
        return result.exit_code, result.output

    def entries(self, first: int, count: int) -> None:
        with transaction(session_factory(self.engine)) as session:
            for n in range(first, first + count):
                make_entry(session, n)
                add_delivery_event(
                    session,
                    message_id=f"msg-{n:06d}",
                    kind="delivered",
                    at=datetime.fromisoformat("2026-12-01T12:00:00+00:00"),
                    provider="outbox",
                    detail={"n": n},
                    keys=KEYS,
                )
                record(session, actor="t", action="test.act", target_type="t", target=str(n))

    def sql(self, statement: str, **params: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(statement), params)


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[World]:
    migrate.upgrade(fresh_database_url)
    world = World(fresh_database_url, tmp_path)
    code, output = world.hcs("keys", "init")
    assert code == 0, output
    yield world
    world.engine.dispose()


def public_key(output: str) -> str:
    return output.strip().splitlines()[-1]


def rfc_open_note(note: str, verifier: str) -> list[str]:
    """The checkpoint lines, once the Ed25519 signature checks out (C2SP signed-note)."""
    name, key_id, encoded = verifier.split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 1 and len(raw) == 33
    expected_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert expected_id.hex() == key_id
    body, _, signatures = note.partition("\n\n")
    [line] = [s for s in signatures.splitlines() if s.startswith(f"\u2014 {name} ")]
    signature = base64.b64decode(line.split(" ")[2])
    assert signature[:4] == expected_id
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[4:], (body + "\n").encode())
    return body.split("\n")


def test_keys_init_writes_an_owner_only_key_once_and_prints_the_public_key(
    fresh_database_url: str, tmp_path: Path
) -> None:
    world = World(fresh_database_url, tmp_path)
    code, output = world.hcs("keys", "init")
    assert code == 0 and stat.S_IMODE(os.stat(world.key).st_mode) == 0o600
    assert public_key(output).startswith("hcs.example+")
    assert f"HCS_SEAL_SIGNING_KEY={world.key}" in output
    before = world.key.read_bytes()
    code, output = world.hcs("keys", "init")
    assert code == 1 and "never overwritten" in output and world.key.read_bytes() == before


def test_a_checkpoint_is_signed_written_and_witnessed_and_proves_one_entry(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 6)
    out = tmp_path / "cp.txt"
    code, output = world.hcs("archive", "checkpoint", "--out", str(out))
    assert code == 0 and "6 entries" in output, output
    note = out.read_text()
    lines = rfc_open_note(note, _verifier(world))
    assert lines[:2] == ["hcs.example/archive", "6"] and lines[3].startswith("time ")
    assert lines[4].startswith("archive_events 6 ")
    [witnessed] = list(world.witness.iterdir())
    assert witnessed.read_text() == note
    assert stat.S_IMODE(witnessed.stat().st_mode) == 0o444
    code, output = world.hcs("archive", "prove", "3")
    proof = json.loads(output)
    root = base64.b64decode(rfc_open_note(proof["checkpoint"], _verifier(world))[2])
    leaf = bytes.fromhex(proof["entry_hash"])
    path = [bytes.fromhex(p) for p in proof["inclusion_proof"]]
    assert proof["leaf_index"] == 2
    assert rfc_verify_inclusion(leaf, 2, 6, path, root)
    assert not rfc_verify_inclusion(leaf, 3, 6, path, root)


def _verifier(world: World) -> str:
    return load_key_file(world.key).verifier.text()


def _checkpoint(world: World, tmp_path: Path, name: str = "cp.txt") -> Path:
    out = tmp_path / name
    code, output = world.hcs("archive", "checkpoint", "--out", str(out))
    assert code == 0, output
    return out


def test_verify_against_a_checkpoint_passes_on_a_log_that_grew(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 5)
    out = _checkpoint(world, tmp_path)
    world.entries(6, 4)
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 0, output
    assert "archive: 9 entries extend the checkpoint's 5" in output
    assert "archive_events: 9 entries extend the checkpoint's 5" in output


def test_deleting_the_newest_entries_with_their_seals_is_caught(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 3)
    _checkpoint(world, tmp_path, "first.txt")
    world.entries(4, 9)
    out = _checkpoint(world, tmp_path)
    world.sql("DELETE FROM archive_events WHERE archive_entry_id > 3")
    world.sql("DELETE FROM archive_payloads WHERE entry_id > 3")
    world.sql("DELETE FROM archive_entries WHERE id > 3")
    world.sql("DELETE FROM seals WHERE log IN ('archive', 'archive_events') AND first_seq > 3")
    world.sql("DELETE FROM checkpoints")
    assert world.hcs("archive", "verify")[0] == 0  # the chain alone cannot tell
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1
    assert "entry seq 4 is missing (the checkpoint covers 12)" in output


def test_rewriting_an_entry_and_recomputing_every_hash_and_seal_is_caught(
    world: World, tmp_path: Path
) -> None:
    for first in (1, 5, 9):  # three sealing rounds, each signed
        world.entries(first, 4)
        out = _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_entries SET template = 'refund-approved' WHERE id = 6")
    _reseal_all(world, ArchiveEntry)
    assert world.hcs("archive", "verify")[0] == 0  # the chain alone cannot tell
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1
    assert (
        "archive entry 6 differs from the checkpoint: seq 6 is not the entry that was signed"
        in (output)
    )


def test_a_rewrite_in_a_round_of_many_names_the_one_entry_that_changed(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 40)  # one sealing round, one checkpoint
    out = _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_entries SET provider = 'forged' WHERE id = 23")
    _reseal_all(world, ArchiveEntry)
    assert world.hcs("archive", "verify")[0] == 0  # the chain alone cannot tell
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1 and "archive entry 23 differs from the checkpoint: seq 23 " in output


def test_an_edit_that_breaks_a_seal_of_many_still_names_the_entry(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 30)
    _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_entries SET template = 'refund-approved' WHERE id = 17")
    _reseal_entries_only(world, ArchiveEntry)  # the seal's leaves too, not its root nor chain
    code, output = world.hcs("archive", "verify")
    assert (
        code == 1
        and "archive entry 17 " in output
        and "is not the entry that was signed" in (output)
    )


def test_a_rewritten_delivery_event_is_named_too(world: World, tmp_path: Path) -> None:
    world.entries(1, 20)
    out = _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_events SET kind = 'bounced' WHERE id = 13")
    _reseal_all(world, ArchiveEvent)
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1 and "archive_events entry 13 differs from the checkpoint: seq 13 " in output


def test_the_entry_is_named_among_several_signed_rounds(world: World, tmp_path: Path) -> None:
    for first in (1, 11, 21, 31):
        world.entries(first, 10)
        _checkpoint(world, tmp_path)
    world.sql("UPDATE checkpoints SET note = 'forged' WHERE size = 10")  # ignored, not trusted
    world.sql("UPDATE archive_entries SET channel = 'sms' WHERE id = 24")
    _reseal_entries_only(world, ArchiveEntry)
    code, output = world.hcs("archive", "verify")
    assert code == 1 and output.startswith("Error: archive entry 24 is not the entry that was")


def test_deleting_the_leaf_signatures_leaves_the_range_named(world: World, tmp_path: Path) -> None:
    world.entries(1, 8)
    out = _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_entries SET provider = 'forged' WHERE id = 6")
    world.sql("DELETE FROM leaf_signatures")
    _reseal_all(world, ArchiveEntry)
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1 and "(the first change is within seq 1-8)" in output


def test_the_audit_log_names_the_rewritten_entry_too(world: World, tmp_path: Path) -> None:
    world.entries(1, 12)
    out = tmp_path / "audit.txt"
    assert world.hcs("audit", "checkpoint", "--out", str(out))[0] == 0
    world.sql("UPDATE audit_entries SET actor = 'someone-else' WHERE target = '9'")
    _reseal_all(world, AuditEntry)
    code, output = world.hcs("audit", "verify", "--checkpoint", str(out))
    assert code == 1 and "is not the entry that was signed" in output


def test_reordering_entries_is_caught(world: World, tmp_path: Path) -> None:
    world.entries(1, 4)
    out = _checkpoint(world, tmp_path)
    world.sql("UPDATE archive_entries SET seq = -1 WHERE id = 1")
    world.sql("UPDATE archive_entries SET seq = 1 WHERE id = 2")
    world.sql("UPDATE archive_entries SET seq = 2 WHERE id = 1")
    _reseal_all(world, ArchiveEntry)
    assert world.hcs("archive", "verify")[0] == 0
    code, output = world.hcs("archive", "verify", "--checkpoint", str(out))
    assert code == 1 and "differs from the checkpoint" in output


def test_a_checkpoint_signed_by_another_key_or_edited_is_refused(
    world: World, tmp_path: Path
) -> None:
    world.entries(1, 3)
    out = _checkpoint(world, tmp_path)
    edited = tmp_path / "edited.txt"
    edited.write_text(out.read_text().replace("\n3\n", "\n2\n", 1))
    code, output = world.hcs("archive", "verify", "--checkpoint", str(edited))
    assert code == 1 and "no valid signature" in output
    other = World(world.url, tmp_path / "other")
    _, printed = other.hcs("keys", "init")
    code, output = world.hcs(
        "archive", "verify", "--checkpoint", str(out), "--public-key", public_key(printed)
    )
    assert code == 1 and "no valid signature" in output


def test_the_audit_log_is_checked_against_its_checkpoint_too(world: World, tmp_path: Path) -> None:
    world.entries(1, 6)
    out = tmp_path / "audit.txt"
    code, output = world.hcs("audit", "checkpoint", "--out", str(out))
    assert code == 0, output
    assert world.hcs("audit", "verify", "--checkpoint", str(out))[0] == 0
    world.sql("UPDATE audit_entries SET actor = 'someone-else' WHERE id = 2")
    _reseal_all(world, AuditEntry)
    assert world.hcs("audit", "verify")[0] == 0
    code, output = world.hcs("audit", "verify", "--checkpoint", str(out))
    assert code == 1 and "differs from the checkpoint" in output


def _reseal_entries_only(world: World, model: type[SealedMixin]) -> None:
    """A clumsier attacker: entry hashes and the seals' leaf lists, but no root nor chain."""
    table, seals = model.__table__, Seal.__table__  # type: ignore[attr-defined]
    with world.engine.begin() as connection:
        hashes = {}
        for row in connection.execute(table.select().order_by(table.c.seq)).mappings():
            hashes[row["seq"]] = model.hash_values(row)
            connection.execute(
                table.update().where(table.c.id == row["id"]).values(entry_hash=hashes[row["seq"]])
            )
        query = seals.select().where(seals.c.log == model.seal_log)
        for row in list(connection.execute(query).mappings()):
            leaves = "".join(hashes[s] for s in range(row["first_seq"], row["last_seq"] + 1))
            connection.execute(seals.update().where(seals.c.id == row["id"]).values(leaves=leaves))


def _reseal_all(world: World, model: type[SealedMixin]) -> None:
    """What an attacker with SQL does after an edit: every entry hash, seal and link again."""
    table, seals = model.__table__, Seal.__table__  # type: ignore[attr-defined]
    with world.engine.begin() as connection:
        hashes = {}
        for row in connection.execute(table.select().order_by(table.c.seq)).mappings():
            hashes[row["seq"]] = model.hash_values(row)
            connection.execute(
                table.update().where(table.c.id == row["id"]).values(entry_hash=hashes[row["seq"]])
            )
        query = seals.select().where(seals.c.log == model.seal_log).order_by(seals.c.first_seq)
        prev = "0" * 64
        for row in list(connection.execute(query).mappings()):
            leaves = [hashes[s] for s in range(row["first_seq"], row["last_seq"] + 1)]
            seal = Seal(**{**row, "prev_hash": prev, "leaves": "".join(leaves)})
            seal.root = merkle_root([bytes.fromhex(h) for h in leaves]).hex()
            seal.hash = prev = seal_hash(seal)
            changed = {"leaves": seal.leaves, "root": seal.root, "prev_hash": seal.prev_hash}
            connection.execute(
                seals.update().where(seals.c.id == row["id"]).values(hash=seal.hash, **changed)
            )


def test_housekeeping_signs_each_new_head_once_and_posts_it_to_an_http_witness(
    world: World, httpserver: HTTPServer
) -> None:
    received: list[str] = []

    def witness(request: Request) -> Response:
        received.append(request.get_data(as_text=True))
        return Response("", 204)

    httpserver.expect_request("/witness", method="POST").respond_with_handler(witness)
    witness_url = httpserver.url_for("/witness")
    key = load_key_file(world.key)
    signing = Checkpointing(key, "hcs.example", witness_url, allow=("127.0.0.1",))
    sessions = session_factory(world.engine)
    world.entries(1, 2)
    housekeeping(sessions, KEYS, signing)
    housekeeping(sessions, KEYS, signing)  # nothing new: nothing signed again
    verifier = _verifier(world)
    assert sorted(rfc_open_note(note, verifier)[0] for note in received) == [
        "hcs.example/archive",
        "hcs.example/audit",
    ]
    world.entries(3, 1)
    housekeeping(sessions, KEYS, signing)
    assert [rfc_open_note(note, verifier)[1] for note in received[2:]] == ["3", "3"]


def test_a_witness_on_an_internal_address_is_never_contacted(
    world: World, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/witness", method="POST").respond_with_data("", 204)
    signing = Checkpointing(load_key_file(world.key), "hcs.example", httpserver.url_for("/witness"))
    world.entries(1, 2)
    housekeeping(session_factory(world.engine), KEYS, signing)
    assert httpserver.log == []
    configured = settings_for(
        world.url,
        seal_signing_key=str(world.key),
        checkpoint_witness="http://169.254.169.254/witness",
    )
    with pytest.raises(DestinationRefused):
        checkpointing(configured)


def test_auditors_read_the_latest_checkpoint_over_the_api(world: World, tmp_path: Path) -> None:
    settings = settings_for(world.url, var_dir=tmp_path / "var")
    with running(settings, add_people(world.url)) as api:
        answer = api.as_("aud@example.com").get("/archive/checkpoint")
        assert answer.status_code == 404 and "HCS_SEAL_SIGNING_KEY" in answer.get_json()["message"]
        world.entries(1, 2)
        out = _checkpoint(world, tmp_path)
        body = api.as_("aud@example.com").get("/archive/checkpoint").get_json()
        assert body["checkpoint"] == out.read_text() and body["size"] == 2
        lines = rfc_open_note(body["checkpoint"], _verifier(world))
        assert base64.b64decode(lines[2]).hex() == body["root"]


@pytest.fixture
def smtp_sink() -> Iterator[PlainSmtpSink]:
    yield from run_plain_smtp()


def test_a_mailto_witness_mails_each_new_checkpoint_to_the_auditors(
    world: World, tmp_path: Path, smtp_sink: PlainSmtpSink
) -> None:
    world.env |= {
        "HCS_CHECKPOINT_WITNESS": "mailto:auditors@example.com,dpo@example.com",
        "HCS_SMTP_HOST": smtp_sink.host,
        "HCS_SMTP_PORT": str(smtp_sink.port),
        "HCS_SMTP_STARTTLS": "0",
        "HCS_EMAIL_FROM": "evidence@hcs.example",
    }
    world.entries(1, 4)
    out = _checkpoint(world, tmp_path)
    _checkpoint(world, tmp_path, "again.txt")  # the same head: signed and mailed once
    [envelope] = smtp_sink.received
    assert envelope.mail_from == "evidence@hcs.example"
    assert envelope.rcpt_tos == ["auditors@example.com", "dpo@example.com"]
    mailed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert isinstance(mailed, EmailMessage)
    [attachment] = list(mailed.iter_attachments())
    note = attachment.get_content()
    assert note == out.read_text()
    assert rfc_open_note(note, _verifier(world))[:2] == ["hcs.example/archive", "4"]


def test_a_mailto_witness_with_a_header_trick_is_refused(world: World, tmp_path: Path) -> None:
    world.env["HCS_CHECKPOINT_WITNESS"] = "mailto:a@example.com%0ABcc:%20eve@example.com"
    world.entries(1, 1)
    code, output = world.hcs("archive", "checkpoint", "--out", str(tmp_path / "cp.txt"))
    assert code == 1 and "is not an email address" in output


def test_an_unreachable_mail_witness_keeps_the_checkpoint(world: World, tmp_path: Path) -> None:
    world.env |= {
        "HCS_CHECKPOINT_WITNESS": "mailto:auditors@example.com",
        "HCS_SMTP_HOST": "127.0.0.1",
        "HCS_SMTP_PORT": str(free_port()),
        "HCS_EMAIL_FROM": "evidence@hcs.example",
    }
    world.entries(1, 2)
    out = _checkpoint(world, tmp_path)
    assert world.hcs("archive", "verify", "--checkpoint", str(out))[0] == 0


def test_leaves_sealed_before_signing_catch_up_a_bounded_run_at_a_time(world: World) -> None:
    signer = load_key_file(world.key)
    leaves = [hashlib.sha256(str(n).encode()).digest() for n in range(7)]
    with transaction(session_factory(world.engine)) as session:
        assert sign_new_leaves(session, "archive", leaves, signer, limit=3) == 3
        assert sign_new_leaves(session, "archive", leaves, signer, limit=3) == 3
        assert sign_new_leaves(session, "archive", leaves, signer, limit=3) == 1
        assert sign_new_leaves(session, "archive", leaves, signer, limit=3) == 0
        rows = [(n + 1, n + 1, leaf) for n, leaf in enumerate(leaves)]
        assert first_unsigned(session, "archive", rows, signer.verifier) is None
        rows[4] = (5, 5, hashlib.sha256(b"forged").digest())
        assert first_unsigned(session, "archive", rows, signer.verifier) == 4
