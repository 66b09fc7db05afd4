"""A hot statement compiled once per dialect and handed to the driver as it is.

`Connection.execute` looks a Core statement up in the compiled cache, builds an execution
context and processes every parameter, on every call: for a single send's three INSERTs that
came to more than SQLite's own work for them. A `Prepared` statement is compiled once per
dialect; its parameters are processed by SQLAlchemy's own bind processors (so the driver gets
exactly what `execute` would have sent it), and it runs through `exec_driver_sql`, so the
connection's events, its transaction and its error handling stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True)
class _Form:
    """The statement as one dialect's driver takes it."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional driver takes them
    positional: bool
    fixed: dict[str, Any]  # parameters the statement itself sets (literals, constants)
    processors: dict[str, Callable[[Any], Any]]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.fixed, **values}
        for name, process in self.processors.items():
            merged[name] = process(merged[name])
        if self.positional:
            return tuple([merged[name] for name in self.names])
        return {name: merged[name] for name in self.names}


class Prepared:
    """`statement`, taking the parameters `names` (the columns of an INSERT, say)."""

    def __init__(self, statement: Executable, names: Sequence[str]) -> None:
        self.statement, self.names = statement, tuple(names)
        self._forms: dict[str, _Form] = {}

    def form(self, dialect: Dialect) -> _Form:
        found = self._forms.get(dialect.name)
        if found is None:
            found = self._forms[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Form:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.names))  # type: ignore[attr-defined]
        binds = compiled.binds
        positional = compiled.positiontup is not None
        names = tuple(compiled.positiontup) if positional else tuple(binds)
        if getattr(compiled, "escaped_bind_names", None):
            raise ValueError("parameter names the driver cannot take as they are")
        fixed = {
            name: bind.effective_value
            for name, bind in binds.items()
            if name not in self.names and not bind.required
        }
        # Columns an INSERT fills from their defaults: a constant is fixed here, a default
        # computed per row (a timestamp, say) must be passed.
        for column in getattr(compiled, "insert_prefetch", ()):
            if column.key in self.names:
                continue
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"pass {column.key}: its default is computed for each row")
            fixed[column.key] = column.default.arg
        missing = [name for name in names if name not in fixed and name not in self.names]
        if missing:
            raise ValueError(f"the statement also takes {', '.join(missing)}")
        processors = {
            name: process
            for name in dict.fromkeys(names)
            if (process := binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        }
        return _Form(compiled.string, names, positional, fixed, processors)

    def bind(self, dialect: Dialect, values: Mapping[str, Any]) -> Bound:
        """The statement with `values` (one row) processed for `dialect`'s driver, ready to run
        (done before a transaction begins, it costs the transaction nothing)."""
        form = self.form(dialect)
        return Bound(form.sql, form.parameters(values))


@dataclass(frozen=True)
class Bound:
    """A prepared statement and its processed parameters."""

    sql: str
    parameters: tuple[Any, ...] | dict[str, Any]

    def run(self, connection: Connection) -> CursorResult[Any]:
        return connection.exec_driver_sql(self.sql, self.parameters)
