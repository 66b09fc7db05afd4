"""The database goes away under the API: a 503 in the error shape, and nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hcs.messages.models import Message, OutboxEntry
from tests.reliability.proxy import Proxy
from tests.support.chat import (
    ChatPlatform,
    accept,
    chat_batch,
    chat_fields,
    publish_chat_template,
)
from tests.support.databases import Databases
from tests.support.world import World, running, settings_for


@contextmanager
def sqlite_locked(path: str) -> Iterator[None]:
    """Another process's exclusive lock on the file: every transaction waits, then gives up."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@contextmanager
def proxy_cut(proxy: Proxy) -> Iterator[None]:
    proxy.cut()
    try:
        yield
    finally:
        proxy.restore()


@pytest.fixture
def outage(
    databases: Databases, backend: str, tmp_path: Path, chat_platform: ChatPlatform
) -> Iterator[tuple[World, AbstractContextManager[None]]]:
    """A world on the database and a way to take that database away for a while."""
    with databases.copy(backend, "world", tmp_path / "db") as (database_url, snapshot):
        url = make_url(database_url)
        proxy = None
        if url.get_backend_name() == "postgresql":
            proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
            url = url.set(host="127.0.0.1", port=proxy.port)
            down: AbstractContextManager[None] = proxy_cut(proxy)
        else:
            down = sqlite_locked(str(url.database))
        fields = chat_fields(chat_platform.url, var_dir=tmp_path)
        settings = settings_for(url.render_as_string(hide_password=False), **fields)
        with running(settings, snapshot.facts) as world:
            publish_chat_template(world)
            yield world, down
        if proxy is not None:
            proxy.close()


def counts(world: World) -> tuple[int, int]:
    with world.app.extensions["hcs"].sessions() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
        entries = session.scalar(select(func.count()).select_from(OutboxEntry))
    return messages or 0, entries or 0


def test_a_database_outage_is_a_503_and_writes_nothing(
    outage: tuple[World, AbstractContextManager[None]],
) -> None:
    world, down = outage
    accept(world, 3)
    assert counts(world) == (3, 3)
    client = world.app.test_client()
    with down, ThreadPoolExecutor(2) as pool:  # together: on SQLite each waits out the lock
        batch = pool.submit(world.as_("system").post, "/messages/batch", chat_batch(50, start=3))
        healthz = pool.submit(world.app.test_client().get, "/healthz")
        refused, health = batch.result(), healthz.result()
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.get_json() == {
        "code": 503,
        "status": "Service Unavailable",
        "message": "the database is unavailable and this request did not complete; try again",
    }
    if world.app.extensions["hcs"].settings.database_url.startswith("sqlite"):
        # SQLite's stand-in for an outage is a held write lock: in WAL mode a reader is never
        # blocked, and /healthz only reads, so the database does answer it.
        assert health.status_code == 200
    else:
        assert health.status_code == 503
        assert health.get_json()["status"] == "unavailable"
        assert health.get_json()["down"] == ["database"]
    assert counts(world) == (3, 3)  # nothing of the refused batch, not even part of it
    assert client.get("/healthz").status_code == 200
    accept(world, 2, start=100)
    assert counts(world) == (5, 5)
