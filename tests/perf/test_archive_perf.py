"""Benchmark: archiving (encrypt per subject, insert, batch seal) vs bare INSERTs of the bytes.

The bare side writes what the archive would hold in one row without any of its work: the clear
fields and the plaintext output, recipient and data. The ratio is what evidence costs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, String, Table, insert
from sqlalchemy.orm import Session, sessionmaker

from hcs.archive import ArchiveEntry, Keyring, archive_output, seal_archive, verify_archive
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory, transaction
from templates_store.orm import UTCDateTime, utcnow
from tests.perf.timing import median_seconds

ENTRIES = 500
RECIPIENTS = 50
KEYS = Keyring.from_master(b"\x07" * 32)
OUTPUT = (
    b"From: shop@example.com\r\nTo: customer@example.com\r\nSubject: Your order\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    + b"<p>Line</p>\r\n"
    * 300
)
COUNTER = itertools.count()

BARE = Table(
    "bare_archive",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("message_id", String(64), unique=True),
    Column("template", String(100), index=True),
    Column("version", Integer),
    Column("closure_hash", String(80)),
    Column("channel", String(10), index=True),
    Column("recipient_key", String(320), index=True),
    Column("recipient", LargeBinary),
    Column("data", LargeBinary),
    Column("output", LargeBinary),
    Column("sent_at", UTCDateTime, index=True),
)


def _messages(count: int) -> list[dict[str, Any]]:
    return [
        {
            "message_id": f"perf-{next(COUNTER)}",
            "template": "order-confirmation",
            "version": 3,
            "closure_hash": "sha256:" + "ab" * 32,
            "channel": "email",
            "locale": "en",
            "category": "transactional",
            "recipient_key": f"customer{n % RECIPIENTS}@example.com",
            "recipient": {"email": f"customer{n % RECIPIENTS}@example.com", "name": "A Customer"},
            "data": {"order_id": f"A-{n}", "first_name": "Ana", "items": ["book", "lamp"]},
            "output": OUTPUT,
            "content_type": "message/rfc822",
            "provider": "outbox",
            "provider_message_id": f"p-{n}",
            "sent_at": utcnow(),
        }
        for n in range(count)
    ]


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    BARE.create(engine)
    yield engine
    engine.dispose()


def _archive(factory: sessionmaker[Session], messages: list[dict[str, Any]], per_txn: int) -> None:
    for start in range(0, len(messages), per_txn):
        with transaction(factory) as session:
            for message in messages[start : start + per_txn]:
                archive_output(session, **message, keys=KEYS)
    with transaction(factory) as session:
        seal_archive(session)


def _bare_row(m: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: m[k] for k in ("message_id", "template", "version", "closure_hash", "channel")},
        "recipient_key": m["recipient_key"],
        "recipient": json.dumps(m["recipient"]).encode(),
        "data": json.dumps(m["data"]).encode(),
        "output": m["output"],
        "sent_at": m["sent_at"],
    }


def _bare(engine: Engine, messages: list[dict[str, Any]], per_txn: int) -> None:
    for start in range(0, len(messages), per_txn):
        with engine.begin() as connection:
            for message in messages[start : start + per_txn]:
                connection.execute(insert(BARE), _bare_row(message))


@pytest.mark.perf
@pytest.mark.parametrize("per_txn", [1, 100])
def test_archiving_costs_a_small_multiple_of_bare_inserts(
    engine: Engine, per_txn: int, bench_report: Callable[..., None]
) -> None:
    factory, backend = session_factory(engine), engine.dialect.name
    rounds = [
        (
            median_seconds(lambda: _archive(factory, _messages(ENTRIES), per_txn), repeat=3),
            median_seconds(lambda: _bare(engine, _messages(ENTRIES), per_txn), repeat=3),
        )
        for _ in range(2)
    ]
    pipeline, raw = min(r[0] for r in rounds), min(r[1] for r in rounds)
    name = f"archive encrypt+insert+seal, {per_txn} entry/txn [{backend}]"
    bench_report(name, pipeline, raw, unit="entry", per=ENTRIES)
    with transaction(factory) as session:
        result = verify_archive(session)
        assert result.ok and result.entries == session.query(ArchiveEntry).count()
