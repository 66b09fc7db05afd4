"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and sessions."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

import hcs.schema  # noqa: F401  (every table mapped before the first query)
from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory

PG_URL = os.environ.get("HCS_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_url(schema: str) -> str:
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def _schema(name: str) -> Iterator[None]:
    """A PostgreSQL schema that exists for the duration of the block."""
    admin = make_engine(PG_URL, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        yield
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hcs.db'}"
        migrate.upgrade(url)
        yield url
        return
    if not PG_URL:
        pytest.skip("HCS_TEST_DATABASE_URL is not set")
    schema = f"hcs_test_{uuid.uuid4().hex[:12]}"
    with _schema(schema):
        url = _postgres_url(schema)
        migrate.upgrade(url)
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


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of its own, for tests that commit (CLI, servers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    if not PG_URL:
        pytest.skip("HCS_TEST_DATABASE_URL is not set")
    schema = f"hcs_fresh_{uuid.uuid4().hex[:12]}"
    with _schema(schema):
        yield _postgres_url(schema)


@contextmanager
def committed_session(url: str) -> Iterator[Session]:
    """A plain session on `url`, its engine disposed afterwards (for reading what a CLI wrote)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
