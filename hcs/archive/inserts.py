"""Many rows in one INSERT, their parameters handed to the driver as one flat tuple.

The write path inserts a round's entries and payloads for every round sent. Through SQLAlchemy
each row's parameters are built and processed one by one, which costs more than the database's
own work. Here a statement's SQL is made once per shape and row count, and only the columns
whose type converts a value (a datetime on SQLite) are processed, by SQLAlchemy's own
processors: the driver receives what SQLAlchemy would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table

# SQLite's bound on a statement's parameters (3.32+); PostgreSQL takes 65,535.
MAX_PARAMETERS = 32_766
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True)
class _Shape:
    """One table's INSERT of these columns on one dialect."""

    head: str
    row: str
    tail: str
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        """The rows' values, processed, in one flat tuple."""
        flat: list[Any] = []
        for row in rows:
            values = list(self.values(row))
            for index, process in self.processors:
                values[index] = process(values[index])
            flat.extend(values)
        return tuple(flat)

    def sql(self, count: int) -> str:
        """The statement for `count` rows."""
        return self.head + ", ".join([self.row] * count) + self.tail


@lru_cache(maxsize=32)
def _shape(
    dialect: Dialect, table: Table, names: tuple[str, ...], returning: tuple[str, ...]
) -> _Shape:
    mark = _MARKS[dialect.paramstyle]
    processors = tuple(
        (index, process)
        for index, name in enumerate(names)
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    )
    quote = dialect.identifier_preparer.quote
    tail = f" RETURNING {', '.join(map(quote, returning))}" if returning else ""
    return _Shape(
        head=f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) VALUES ",
        row=f"({', '.join([mark] * len(names))})",
        tail=tail,
        values=itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],),
        processors=processors,
    )


def insert_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> list[Any]:
    """Insert `rows` (all with the same columns) in as few statements as the driver allows.

    :returns: the `returning` columns of every row inserted, in no particular order.
    """
    if not rows:
        return []
    shape = _shape(connection.dialect, table, tuple(rows[0]), tuple(returning))
    per_statement = MAX_PARAMETERS // len(rows[0])
    returned: list[Any] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        result = connection.exec_driver_sql(shape.sql(len(chunk)), shape.parameters(chunk))
        if returning:
            returned.extend(result.all())
    return returned
