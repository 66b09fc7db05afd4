"""Counting the SQL a step runs: for tests that bound how many statements a step costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session


@contextmanager
def statements(source: Session | Engine) -> Iterator[list[str]]:
    """The SQL statements run inside the block, whitespace collapsed: on the session's
    connection, or on every connection of an engine (an app serving requests)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(" ".join(args[2].split()))

    target: Connection | Engine = source.connection() if isinstance(source, Session) else source
    event.listen(target, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", note)
