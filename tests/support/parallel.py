"""What each pytest-xdist worker keeps to itself: its PostgreSQL database and its Redis db.

`make test` runs the suite on two workers (`-n 2`). Their schemas already have unique names, but
PostgreSQL advisory locks (the sealer's) and connection kills are per database, and Celery keeps
its unacknowledged tasks in one hash per Redis db: so worker `gwN` gets the database
`<name>_gwN` and Redis db N + 1. A run without xdist uses the configured database and Redis db 0.
"""

from __future__ import annotations

import os

from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from hcs.infrastructure.db import make_engine

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_number() -> int:
    """0 for `gw0`, 1 for `gw1`...; 0 without xdist."""
    return int(WORKER.removeprefix("gw")) if WORKER else 0


def redis_db() -> int:
    """This worker's Redis database: 0 without xdist, N + 1 on worker `gwN`."""
    return worker_number() + 1 if WORKER else 0


def worker_database_url(url: str) -> str:
    """`url` on this worker's own database (the same URL without xdist)."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def create_worker_database(base_url: str) -> None:
    """Create this worker's database on the server of `base_url` unless it exists."""
    if not base_url or not WORKER:
        return
    name = make_url(worker_database_url(base_url)).database
    admin = make_engine(base_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not found:
                # template0: no session is ever connected to it, so the workers never wait on
                # each other's CREATE DATABASE (template1's rule: nobody else connected).
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        admin.dispose()
