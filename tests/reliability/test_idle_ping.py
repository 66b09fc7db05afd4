"""PostgreSQL connections are pinged when they sat idle in the pool, not on every checkout: one
the server ended meanwhile is replaced unseen, one used moments ago costs no extra round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from hcs.infrastructure import db
from hcs.infrastructure.db import make_engine


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    if fresh_database_url.startswith("sqlite"):
        pytest.skip("a server that ends connections: PostgreSQL")
    engine = make_engine(fresh_database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When the pool pinged a connection."""
    seen: list[float] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(time.monotonic())
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_the_server_ended_while_it_sat_idle_is_replaced_unseen(
    engine: Engine, pings: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.05)
    first = _backend(engine)
    killer = make_engine(engine.url.render_as_string(hide_password=False))
    with killer.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    killer.dispose()
    time.sleep(0.1)
    assert _backend(engine) != first  # no error: the ping found it dead, a new one answered
    assert pings


def test_a_connection_used_moments_ago_is_not_pinged_again(
    engine: Engine, pings: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 5.0)
    backends = {_backend(engine) for _ in range(20)}
    assert len(backends) == 1 and pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.05)
    time.sleep(0.1)
    _backend(engine)
    assert len(pings) == 1
