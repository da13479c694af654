"""The ingest's per-batch statements, sent straight to the database driver (``exec_driver_sql``).

A Core statement is built, keyed, looked up in the compiled cache and, with ``IN`` lists, rendered
again on every call: about 0.5 ms per statement with a hundred values, several statements per
batch. These statements are plain SQL written with ``?`` marks (turned into ``%s`` for drivers of
the ``format`` style, psycopg), and the values of an INSERT go through each column's own type
processor, so a row is stored exactly as the ORM would store it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Processor = Callable[[Any], Any] | None
_SQL: dict[tuple[str, str], str] = {}
_PROCESSORS: dict[tuple[str, str, str, bool], _Processor] = {}
_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[_Processor]]] = {}


def marks(count: int) -> str:
    """``count`` value marks for an ``IN (...)`` list."""
    return ", ".join("?" * count)


def _native(dialect: Dialect, sql: str) -> str:
    """``sql`` with the driver's own mark in place of each ``?``."""
    key = (dialect.paramstyle, sql)
    native = _SQL.get(key)
    if native is None:
        native = sql if dialect.paramstyle == "qmark" else sql.replace("?", "%s")
        _SQL[key] = native
    return native


def fetch(session: Session, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one statement in the session's transaction, as the driver returns them (no type
    processing: for text and integer columns)."""
    connection = session.connection()
    result = connection.exec_driver_sql(_native(connection.dialect, sql), tuple(params))
    return [tuple(row) for row in result.fetchall()] if result.returns_rows else []


def _processor(dialect: Dialect, column: Any, reading: bool) -> _Processor:
    """``column``'s own conversion for this dialect, from the driver's value (``reading``) or to it."""
    key = (dialect.name, column.table.name, column.name, reading)
    if key not in _PROCESSORS:
        type_ = column.type.dialect_impl(dialect)
        _PROCESSORS[key] = type_.result_processor(dialect, None) if reading else type_.bind_processor(dialect)
    return _PROCESSORS[key]


def read(session: Session, column: Any, value: Any) -> Any:
    """``value`` as the driver returned it for ``column``, as the ORM would read it (SQLite's text as a
    datetime, say)."""
    process = _processor(session.connection().dialect, column, reading=True)
    return value if process is None or value is None else process(value)


def bound(session: Session, column: Any, value: Any) -> Any:
    """``value`` as ``column``'s type hands it to the driver (a datetime as SQLite's text, say)."""
    process = _processor(session.connection().dialect, column, reading=False)
    return value if process is None or value is None else process(value)


def _insert_plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> tuple[str, list[_Processor]]:
    key = (dialect.name, table.name, columns)
    plan = _INSERTS.get(key)
    if plan is None:
        for column in table.columns:
            default = column.default
            if column.name not in columns and default is not None and not getattr(default, "is_scalar", False):
                raise ValueError(f"{table.name}.{column.name} has a computed default: the rows must give it")
        names = ", ".join(columns)
        sql = _native(dialect, f"INSERT INTO {table.name} ({names}) VALUES ({marks(len(columns))})")
        plan = (sql, [_processor(dialect, table.columns[name], reading=False) for name in columns])
        _INSERTS[key] = plan
    return plan


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany INSERT of ``rows`` (dicts with the same keys) into ``table``; columns left out
    take their scalar default, or their database default when they have none."""
    if not rows:
        return
    connection = session.connection()
    defaults = {column.name: column.default.arg for column in table.columns  # type: ignore[union-attr]
                if column.name not in rows[0] and getattr(column.default, "is_scalar", False)}
    given = tuple(rows[0])
    sql, processors = _insert_plan(connection.dialect, table, given + tuple(defaults))
    pick = itemgetter(*given)
    values: list[Sequence[Any]] = [pick(row) for row in rows] if len(given) > 1 else [(row[given[0]],) for row in rows]
    if defaults:
        values = [(*row, *defaults.values()) for row in values]
    typed = [(index, process) for index, process in enumerate(processors) if process is not None]
    if typed:
        done: dict[tuple[int, int], Any] = {}  # one conversion per object: a batch shares its timestamps
        values = [_processed(row, typed, done) for row in values]
    connection.exec_driver_sql(sql, values)


def _processed(row: Sequence[Any], typed: list[tuple[int, Callable[[Any], Any]]],
               done: dict[tuple[int, int], Any]) -> tuple[Any, ...]:
    """``row`` with each typed column's value as its type hands it to the driver; ``done`` holds the
    conversions already made in this statement, by column and object (the rows keep the objects alive)."""
    out = list(row)
    for index, process in typed:
        value = out[index]
        if value is not None:
            key = (index, id(value))
            if key not in done:
                done[key] = process(value)
            out[index] = done[key]
    return tuple(out)
