"""Inserts that wait for the commit and, on PostgreSQL, go in together as one statement.

An answered question writes four rows (the consultation, the reply in the outbox, its counts, the
message id), each an INSERT of its own: on PostgreSQL that is BEGIN, four round trips and a
COMMIT (and the checkout ping, on a connection idle a while). `insert_later` keeps such rows
until the transaction commits; then they go in as one statement, each table's rows as arrays:

    WITH w0 AS (INSERT INTO consultations (…) SELECT * FROM unnest($1::VARCHAR[], …)),
         w1 AS (INSERT INTO outbox (…) SELECT * FROM unnest(…))
    INSERT INTO processed_messages (…) SELECT * FROM unnest(…)

One statement is atomic by itself, so a transaction that did nothing else sends it without BEGIN
and COMMIT (bench/bench_pipeline.py --postgres). Its text depends only on which tables and columns
take part, not on how many rows, so the server's prepared form is reused.

Routine rows (`routine=True`: counts, message ids, the reply to someone who just wrote, the record
of a question the guide answered) do not need the server's disk: lost in a server crash, a count is
one short or the resident asks again. A statement of routine rows only, sent alone, commits without
waiting for the disk (`set_config('synchronous_commit', 'off', true)`, for that statement alone),
as SQLite commits everything (WAL, synchronous NORMAL). A statement with anything else in it (a
tip, a suggestion, a numbered record, an officer's notice) waits, as every commit does by default,
and so does every statement of an engine whose config says `synchronous_commit: true`.

For rows nothing in the same transaction reads back: a handler that inserts a row and then
queries it must insert it now. On SQLite an insert costs ~50 µs and no round trip: the rows go in
at once, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

from sqlalchemy import Insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

# An engine's execution option (storage.db, database.synchronous_commit: true): routine rows wait too
EVERY_COMMIT_WAITS = "every_commit_waits"
PENDING = "inserts_later"  # session.info key: [(_Shape, rows, routine)] waiting for the commit


def defers(session: AsyncSession) -> bool:
    """PostgreSQL over asyncpg, in a session whose commit sends what waits (storage.db's)."""
    dialect = session.bind.dialect
    return dialect.name == "postgresql" and dialect.driver == "asyncpg" and getattr(
        session.sync_session, "writes_later", False)


async def insert_later(session: AsyncSession, stmt: Insert, rows: dict | list[dict], *, routine: bool = False) -> None:
    """Insert `rows` with `stmt` (an insert built once, such as storage.upsert's) in the session's
    transaction: on PostgreSQL when it commits, elsewhere now. Rows of a statement already waiting
    join its arrays; a statement that updates on a conflict is sent first instead (two of its rows
    could be the same row, which one statement cannot update twice). `routine`: rows a server
    crash may lose (see the module's docstring)."""
    rows = [rows] if isinstance(rows, dict) else rows
    if not rows:
        return
    if not defers(session):
        conn = await session.connection()
        await conn.execute(stmt, rows)
        return
    shape = _shape(session.bind.dialect, stmt, tuple(rows[0]))
    if session.sync_session.get_transaction() is None:
        # As any change would: the rows then end with the transaction, committed or rolled back
        # (a session closed without one would keep them for its next transaction).
        session.sync_session.begin()
    pending = session.info.setdefault(PENDING, [])
    for i, (queued, queued_rows, queued_routine) in enumerate(pending):
        if queued is shape and shape.merges:
            pending[i] = (shape, queued_rows + rows, queued_routine and routine)
            return
        if queued.table == shape.table:  # the same table another way: its rows go in first
            await session.run_sync(write_pending)
            break
    session.info.setdefault(PENDING, []).append((shape, rows, routine))


def has_pending(session: AsyncSession) -> bool:
    return bool(session.info.get(PENDING))


def write_pending(session: Session, at_commit: bool = False) -> None:
    """Send what waits, as one statement, in the session's transaction. At the commit of a
    transaction that has sent nothing else, it goes alone, in autocommit: one statement is atomic
    and needs no BEGIN and COMMIT."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    alone = at_commit and not session.info.get("connected") and not (session.new or session.dirty or session.deleted)
    no_wait = alone and all(routine for _, _, routine in pending) and not (
        session.bind.get_execution_options().get(EVERY_COMMIT_WAITS))
    sql, params = _combined(pending, no_wait)
    conn = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"} if alone else None)
    conn.exec_driver_sql(sql, tuple(params))


def forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


@dataclass(frozen=True, eq=False)  # one object per insert and keys (_SHAPES): known by identity
class _Shape:
    """One insert's text for rows given as arrays, and how to turn rows into those arrays."""
    table: str
    merges: bool  # rows queued twice can share the arrays (no update on a conflict)
    head: str  # INSERT INTO t (a, b) SELECT * FROM unnest(
    casts: tuple[str, ...]  # the array type of each column, in order: VARCHAR[] …
    tail: str  # ) ON CONFLICT …
    columns: tuple[str, ...]
    defaults: tuple[Callable[[], Any], ...]  # for a column a row does not name (or a KeyError)
    processors: tuple[Callable[[Any], Any] | None, ...]

    def arrays(self, rows: list[dict]) -> list[list]:
        out = []
        for name, default, process in zip(self.columns, self.defaults, self.processors):
            values = [row[name] if name in row else default() for row in rows]
            out.append([process(v) for v in values] if process else values)
        return out


# By the insert's id and the rows' keys; the insert is kept beside its shape, so its id is never reused
_SHAPES: dict[tuple[int, tuple[str, ...]], tuple[Insert, _Shape]] = {}
_VALUES = re.compile(r" VALUES \(([^()]*)\)")
_BIND = re.compile(r"^\$(\d+)::([A-Z][A-Z ]*)$")


def _shape(dialect: Dialect, stmt: Insert, keys: tuple[str, ...]) -> _Shape:
    """The insert compiled once for rows with `keys`: its VALUES (…) becomes unnest(…) of arrays,
    each placeholder's cast an array's. Anything else in the text is refused, not guessed at."""
    found = _SHAPES.get((id(stmt), keys))
    if found is not None and found[0] is stmt:
        return found[1]
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    text = str(compiled)
    values = _VALUES.findall(text)
    binds = [b.strip() for b in values[0].split(",")] if len(values) == 1 else []
    parsed = [_BIND.match(b) for b in binds]
    names = list(compiled.positiontup or ())
    if not binds or not all(parsed) or len(names) != len(binds) or [int(p.group(1)) for p in parsed] != list(
            range(1, len(binds) + 1)):
        raise ValueError(f"insert_later cannot send this insert as arrays: {text}")
    table = stmt.table
    defaults, processors = [], []
    for name in names:
        column = table.c[name]
        default = column.default
        if default is None or name in keys:
            defaults.append(_missing(name))
        elif default.is_scalar:
            defaults.append(lambda value=default.arg: value)
        elif default.is_callable:
            defaults.append(lambda arg=default.arg: arg(None))
        else:
            raise ValueError(f"insert_later: column {table.name}.{name} has a default it cannot compute")
        processors.append(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
    start, end = _VALUES.search(text).span()
    tail = text[end:]
    shape = _Shape(table=table.name, merges="DO UPDATE" not in tail, head=f"{text[:start]} SELECT * FROM unnest(",
                   casts=tuple(f"{p.group(2)}[]" for p in parsed), tail=f"){tail}", columns=tuple(names),
                   defaults=tuple(defaults), processors=tuple(processors))
    _SHAPES[(id(stmt), keys)] = (stmt, shape)
    return shape


def _missing(name: str) -> Callable[[], Any]:
    def fail():
        raise KeyError(f"insert_later: a row without '{name}'")
    return fail


def _combined(parts: list[tuple[_Shape, list[dict], bool]], no_wait: bool = False) -> tuple[str, list]:
    """The inserts as one statement: all but the last as data-modifying WITH queries (PostgreSQL
    runs every one of them, referenced or not), and its parameters: one array per column.
    `no_wait`: every insert a WITH query, and the statement itself turns off synchronous_commit
    for its own transaction (a statement sent alone, in autocommit, is one)."""
    params = []
    for shape, rows, _ in parts:
        params.extend(shape.arrays(rows))
    return _text(tuple(shape for shape, _, _ in parts), no_wait), params


NO_WAIT = "SELECT set_config('synchronous_commit', 'off', true)"


@cache
def _text(shapes: tuple[_Shape, ...], no_wait: bool = False) -> str:
    """The statement's text, for these tables and columns in this order (a handful of them)."""
    texts, n = [], 0
    for shape in shapes:
        placeholders = ", ".join(f"${n + i + 1}::{cast}" for i, cast in enumerate(shape.casts))
        texts.append(f"{shape.head}{placeholders}{shape.tail}")
        n += len(shape.casts)
    last = NO_WAIT if no_wait else texts.pop()
    if not texts:
        return last
    ctes = ", ".join(f"w{i} AS ({t})" for i, t in enumerate(texts))
    return f"WITH {ctes} {last}"
