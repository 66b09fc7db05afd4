"""A column matched against a list of values: one array parameter on PostgreSQL.

An IN list binds one parameter per value, and psycopg parses a statement's placeholders again
on every execution once it has more than 50 parameters (its cache of parsed statements is
bounded that way): a batch's thousand-recipient lookup cost more in the driver than in the
database. On PostgreSQL the list goes as one array (`= ANY(...)`); SQLite, which has no
arrays, keeps the IN list. A statement is built both ways once; `by_array` picks one.

SQLAlchemy also writes an IN list out again at every execution, one placeholder a value: a
worker's round of 200 emails runs a dozen such statements (its entries, messages, leases, keys,
callbacks), which cost a PostgreSQL worker 8% of its CPU in the two steps (`among`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam
from sqlalchemy.orm import InstrumentedAttribute, Session

# A table's column, or a mapped class's attribute.
Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def one_of(column: Column, name: str, *, array: bool) -> ColumnElement[bool]:
    """`column` is one of the list bound as `name`: an array parameter, or an IN list."""
    if array:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def among(column: Column, values: Iterable[Any], *, array: bool) -> ColumnElement[bool]:
    """`column` is one of `values`: bound as one array, or as an IN list."""
    if array:
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def by_array(session: Session) -> bool:
    """Whether the session's database takes a list as one array parameter (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"
