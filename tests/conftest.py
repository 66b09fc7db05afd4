"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), sessions, the world."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import hcs.schema  # noqa: F401  (every table mapped before the first query)
from hcs.infrastructure.db import make_engine
from tests.support.apps import share_url_builders
from tests.support.databases import (
    BACKENDS,
    NO_POSTGRES,
    PG_BASE_URL,
    PG_URL,
    Databases,
    postgres_schema,
)
from tests.support.model import loopback_model
from tests.support.parallel import create_worker_database
from tests.support.world import World, databases_in, own_world


def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker's own PostgreSQL database exists before any test uses it; the
    apps of the tests share their compiled URL builders."""
    create_worker_database(PG_BASE_URL)
    share_url_builders()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The session's migrated databases: empty ("migrated"), and with people and keys ("world")."""
    store = databases_in(tmp_path_factory.mktemp("databases"))
    yield store
    store.close()


def _available(backend: str) -> str:
    if backend == "postgresql" and not PG_URL:
        pytest.skip(NO_POSTGRES)
    return backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of the test's own databases: "sqlite", or "postgresql" when configured."""
    return _available(request.param)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A migrated database per backend, shared by the tests whose sessions are rolled back."""
    directory = tmp_path_factory.mktemp("db")
    with databases.copy(_available(request.param), "migrated", directory) as (url, _):
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            yield session
        transaction.rollback()


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of its own, for tests that migrate it themselves."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def migrated_database_url(databases: Databases, backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of its own, for tests that commit (CLI, servers)."""
    with databases.copy(backend, "migrated", tmp_path / "migrated") as (url, _):
        yield url


@pytest.fixture
def make_world(
    databases: Databases, backend: str, tmp_path: Path
) -> Iterator[Callable[..., World]]:
    """Builds worlds of the test's own; keyword arguments are settings over the tests' ones."""
    counter = itertools.count()
    with ExitStack() as stack:

        def build(**fields: Any) -> World:
            directory = tmp_path / f"world-{next(counter)}"
            fields.setdefault("var_dir", tmp_path / "var")
            return stack.enter_context(own_world(databases, backend, directory, **fields))

        yield build


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A world of the test's own: the people, their keys, an app with the tests' settings."""
    return make_world()


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """A fake OpenAI-compatible model on loopback (no proxy between the SDK and it)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with loopback_model() as server:
        yield server
