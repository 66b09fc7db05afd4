"""Test databases: each kind is built once per session, then copied for every test that needs one.

Migrating with Alembic costs ~0.5 s on SQLite and ~3 s on PostgreSQL, so it happens once per
kind and backend. A test then gets its own copy: on SQLite a copy of the file; on PostgreSQL a
schema from a small pool, migrated once, whose rows are replaced by the template's (tens of
milliseconds, where creating a database from a template or replaying the schema takes a second).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from hcs.infrastructure import migrate
from hcs.infrastructure.db import make_engine, session_factory
from tests.support.parallel import worker_database_url

# Under pytest-xdist each worker has a database of its own (`tests/support/parallel.py`).
PG_BASE_URL = os.environ.get("HCS_TEST_DATABASE_URL", "")
PG_URL = worker_database_url(PG_BASE_URL)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
NO_POSTGRES = "HCS_TEST_DATABASE_URL is not set"

# Fills a migrated, empty database; returns what the tests need to know about it (e.g. API keys).
Filler = Callable[[str], dict[str, str]]


def postgres_url(schema: str) -> str:
    """The test server's URL with `schema` as the search path."""
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}"


def _admin() -> Engine:
    return make_engine(PG_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")


@contextmanager
def postgres_schema(prefix: str = "hcs_fresh") -> Iterator[str]:
    """An empty PostgreSQL schema of its own for the block; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        yield postgres_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def committed_session(url: str) -> Iterator[Session]:
    """A plain session on `url`, its engine disposed afterwards (for reading what a CLI wrote)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@dataclass
class Snapshot:
    """A migrated database built once; `facts` is what its filler returned."""

    url: str
    facts: dict[str, str]
    schema: str = ""


@dataclass
class Databases:
    """The session's snapshots per backend and kind, and the pool of PostgreSQL working schemas."""

    directory: Path
    fillers: dict[str, Filler]
    snapshots: dict[tuple[str, str], Snapshot] = field(default_factory=dict)
    free: list[str] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    resets: dict[str, str] = field(default_factory=dict)

    def snapshot(self, backend: str, kind: str) -> Snapshot:
        """The migrated database of `kind` on `backend`, built on first use."""
        if (backend, kind) not in self.snapshots:
            self.snapshots[backend, kind] = self._build(backend, kind)
        return self.snapshots[backend, kind]

    @contextmanager
    def copy(self, backend: str, kind: str, directory: Path) -> Iterator[tuple[str, Snapshot]]:
        """A database of the test's own holding what the snapshot holds; yields its URL."""
        snapshot = self.snapshot(backend, kind)
        if backend == "sqlite":
            target = directory / "hcs.db"
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.directory / f"{kind}.db", target)
            yield f"sqlite:///{target}", snapshot
            return
        schema = self.free.pop() if self.free else self._migrated_schema("hcs_work")
        self._reset(schema, snapshot.schema)
        try:
            yield postgres_url(schema), snapshot
        finally:
            self.free.append(schema)

    def close(self) -> None:
        """Drop every PostgreSQL schema the session made."""
        if not self.schemas:
            return
        admin = _admin()
        with admin.connect() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    def _build(self, backend: str, kind: str) -> Snapshot:
        if backend == "sqlite":
            path = self.directory / f"{kind}.db"
            url = f"sqlite:///{path}"
            migrate.upgrade(url)
            facts = self.fillers[kind](url)
            # The file alone must hold everything: SQLite folds its WAL in when the last
            # connection closes, and the copies are taken from the file.
            assert not path.with_name(path.name + "-wal").exists(), "a connection is still open"
            return Snapshot(url, facts)
        schema = self._migrated_schema(f"hcs_{kind}")
        url = postgres_url(schema)
        return Snapshot(url, self.fillers[kind](url), schema)

    def _migrated_schema(self, prefix: str) -> str:
        if not PG_URL:
            pytest.skip(NO_POSTGRES)
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        admin = _admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        self.schemas.append(name)
        migrate.upgrade(postgres_url(name))
        return name

    def _reset(self, schema: str, template: str) -> None:
        """Make `schema`'s rows and sequences those of `template` (both migrated alike)."""
        admin = _admin()
        with admin.connect() as conn:
            sql = self.resets.get(template) or self._reset_sql(conn, template)
            self.resets[template] = sql
            conn.exec_driver_sql(sql.replace("{schema}", schema))
        admin.dispose()

    @staticmethod
    def _reset_sql(conn: Connection, template: str) -> str:
        """One script, run as one transaction, that copies `template` into `{schema}`."""
        tables = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": template}
        ).all()
        sequences = conn.scalars(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": template}
        ).all()
        # Replica mode skips the foreign-key triggers, so the order of the tables does not matter
        # (it needs a superuser, as the test server's postgres is); the lock timeout turns a
        # connection a test left open into an error instead of a hang.
        statements = ["SET lock_timeout = '10s'", "SET session_replication_role = replica"]
        for table in tables:
            target, source = f'"{{schema}}"."{table}"', f'"{template}"."{table}"'
            statements += [f"DELETE FROM {target}", f"INSERT INTO {target} SELECT * FROM {source}"]
        for sequence in sequences:
            target, source = f'"{{schema}}"."{sequence}"', f'"{template}"."{sequence}"'
            statements.append(f"SELECT setval('{target}', last_value, is_called) FROM {source}")
        statements.append("SET session_replication_role = origin")
        return ";\n".join(statements)
