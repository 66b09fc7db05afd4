"""`hcs` run in-process against a database of its own, with the archive's master keys."""

from __future__ import annotations

import base64
import hashlib

from click.testing import CliRunner
from sqlalchemy import text

from hcs.archive import Keyring
from hcs.cli import main
from hcs.infrastructure.db import make_engine

MASTER = hashlib.sha256(b"cli master").digest()
KEYS = Keyring.from_master(MASTER)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def hcs_cli(
    url: str, *args: str, master: bytes = MASTER, previous: tuple[bytes, ...] = ()
) -> tuple[int, str]:
    env = {
        "HCS_DATABASE_URL": url,
        "HCS_ARCHIVE_MASTER_KEY": b64(master),
        "HCS_ARCHIVE_PREVIOUS_MASTER_KEYS": ",".join(b64(key) for key in previous),
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def entry_id(url: str, message_id: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT id FROM archive_entries WHERE message_id = :m")
            return int(connection.execute(query, {"m": message_id}).scalar_one())
    finally:
        engine.dispose()
