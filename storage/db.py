"""One async engine factory for SQLite (embedded default) and PostgreSQL, sessions, and schema upgrades."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from storage import later, sqlite_inline
from storage.upsert import plain_insert

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)
T = TypeVar("T")


def create_engine(url: str, pool_size: int = 2, max_overflow: int = 2, lock_timeout: float = 30.0,
                  synchronous_commit: bool | None = None) -> AsyncEngine:
    """hide_parameters: an error's text never carries the values of its statement (a tip's body,
    a reporter's contact id); bot.logs redacts what a driver puts in its own messages.

    PostgreSQL: at most pool_size + max_overflow connections (config database.pool_size and
    max_overflow); a district's bots share the server's max_connections. `synchronous_commit`
    (database.synchronous_commit): the server's setting of that name on the bot's connections, on
    or off; None leaves the server's, but for storage.later's routine rows, which never wait for
    the disk unless it is True.
    SQLite: one connection, waiting up to `lock_timeout` seconds for another's write lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # One connection, its statements run inline, each transaction BEGIN IMMEDIATE
            # (storage.sqlite_inline says why).
            engine = create_async_engine(url, async_creator=sqlite_inline.creator(parsed.database, lock_timeout),
                                         pool_size=1, max_overflow=0, pool_timeout=60, hide_parameters=True)
            event.listen(engine.sync_engine, "begin", sqlite_inline.begin_immediately)
        else:
            engine = create_async_engine(url, connect_args={"timeout": lock_timeout}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_driver_name() != "asyncpg":
        return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
                                   hide_parameters=True)
    settings = {} if synchronous_commit is None else {
        "server_settings": {"synchronous_commit": "on" if synchronous_commit else "off"}}
    # synchronous_commit: true is every commit, the routine ones of storage.later too
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, hide_parameters=True,
                                 connect_args=settings,
                                 execution_options={later.EVERY_COMMIT_WAITS: bool(synchronous_commit)})
    event.listen(engine.sync_engine, "connect", _fresh)
    event.listen(engine.sync_engine, "checkin", _checked_in)
    event.listen(engine.sync_engine, "checkout", _ping_asyncpg)
    return engine


# A connection given back less than this long ago is not pinged again (see _ping_asyncpg).
RECENTLY_USED = 1.0  # seconds


def _fresh(_dbapi_conn, record) -> None:
    record.info["fresh"] = True


def _checked_in(_dbapi_conn, record) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_asyncpg(_dbapi_conn, record, _proxy) -> None:
    """What pool_pre_ping does, at most one round trip and mostly none. A dead connection raises
    DisconnectionError and the pool replaces it (SQLAlchemy's pessimistic disconnect handling).

    - A connection just made is not pinged.
    - One the server has closed (restarted, pg_terminate_backend, idle_session_timeout) is known
      without asking: the server says so and closes the socket, and asyncpg notes it.
    - One given back less than RECENTLY_USED ago, still open, is not pinged: a busy bot would
      otherwise pay a round trip before every message's transaction, a third of an answered
      question's. What a ping would still catch in that second (a server gone without a word
      while the bot was busy) fails the first statement instead; the pool then replaces every
      connection older than that fault.
    - Any other is pinged with an empty statement: one round trip, where SQLAlchemy's asyncpg
      ping wraps it in BEGIN … ROLLBACK (for pgbouncer's transaction mode, not used here)."""
    if record.info.pop("fresh", False):
        return
    conn = record.driver_connection
    if conn.is_closed():
        raise DisconnectionError("pooled connection closed by the server")
    if time.monotonic() - record.info.get("checked_in", float("-inf")) < RECENTLY_USED:
        return
    try:
        await_only(conn.fetchrow(";"))
    except Exception as error:
        raise DisconnectionError(f"pooled connection lost ({type(error).__name__})") from error


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers run beside the one writer; NORMAL sync is durable across process crashes.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _Session(Session):
    """A session that notes when its transaction first takes a connection (see `has_work`), and
    sends the rows of storage.later when it commits."""

    writes_later = True


@event.listens_for(_Session, "after_begin")
def _took_connection(session: Session, _transaction, _connection) -> None:
    session.info["connected"] = True


@event.listens_for(_Session, "before_commit")
def _write_later(session: Session) -> None:
    later.write_pending(session, at_commit=True)


@event.listens_for(_Session, "after_transaction_end")
def _forget_later(session: Session, transaction) -> None:
    if transaction.parent is None:  # rolled back or closed: what waited is gone with it
        later.forget_pending(session)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_Session)


async def add_row(session: AsyncSession, model, **values) -> int:
    """A new row of `model` in the session's transaction, for a row whose id is needed at once
    (the number in an officer's notice) and which nothing in the transaction reads back. Column
    defaults apply as with the ORM. Returns the row's id.

    On PostgreSQL the id is taken from the table's sequence and the row waits for the commit
    with the transaction's other rows (storage.later): a suggestion with its thanks, notice,
    counts and message id is then 2 round trips, not BEGIN, INSERT, the rest and COMMIT. The
    sequence is asked outside the transaction when none has begun (as an INSERT in a transaction
    that rolls back, a number taken and not used is skipped). Elsewhere: one Core insert now (no
    ORM add and flush, which cost several times the insert)."""
    table = model.__table__
    if later.defers(session):
        row_id = await _next_id(session, table.name)
        await later.insert_later(session, plain_insert(table), {"id": row_id, **values})
        return row_id
    conn = await session.connection()
    # Values as parameters, not .values(): the statement is then built once and its compiled
    # form cached; building an insert with values costs more than running it.
    result = await conn.execute(plain_insert(table), values)
    return result.inserted_primary_key[0]


_NEXT_ID = "SELECT nextval(pg_get_serial_sequence($1, 'id'))"


async def _next_id(session: AsyncSession, table: str) -> int:
    if session.info.get("connected"):  # a transaction is open: one statement more in it
        conn = await session.connection()
        return (await conn.exec_driver_sql(_NEXT_ID, (table,))).scalar_one()
    async with session.bind.connect() as conn:  # none yet: no BEGIN and COMMIT for it
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return (await conn.exec_driver_sql(_NEXT_ID, (table,))).scalar_one()


def has_work(session: AsyncSession) -> bool:
    """Whether anything ran in, or waits to be written by, this session's transaction.

    A handler that looked and decided to do nothing leaves it False: its caller can then skip
    the transaction's own bookkeeping (and SQLite's BEGIN/COMMIT never happen at all)."""
    return bool(session.info.get("connected") or later.has_pending(session) or session.new or session.dirty
                or session.deleted)


def after_commit(session: AsyncSession, action: Callable[[], object]) -> None:
    """Run `action` (an in-memory change, such as the scheduler's copy of a job) once the
    session's transaction has committed: nothing in memory may run ahead of a row that could
    still be rolled back."""
    def run(_session) -> None:
        try:
            action()
        except Exception:
            log.exception("change after commit failed")

    event.listen(session.sync_session, "after_commit", run, once=True)


RETRY_DELAYS = (0.2, 1.0, 3.0)  # seconds before each new try of a transaction that met a fault
_TRANSIENT = ("deadlock", "could not serialize", "connection was closed", "connection is closed",
              "terminating connection", "connection does not exist", "server closed the connection",
              "database is locked", "connection refused", "connection reset")


def connection_lost(error: BaseException) -> bool:
    """The connection a statement ran on turned out dead (the pool replaces it for the next one)."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_transient(error: BaseException) -> bool:
    """A fault another try may not meet: a dropped connection, SQLite's lock, a deadlock or a
    serialization failure. Not a constraint or a bad value: those would fail again."""
    if connection_lost(error):
        return True
    text = str(getattr(error, "orig", error)).lower()
    return any(word in text for word in _TRANSIENT)


async def retrying(sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]],
                   what: str, delays: tuple[float, ...] = RETRY_DELAYS,
                   retry_on: Callable[[BaseException], bool] | None = None) -> T:
    """Run `work` in a transaction of its own, again on a transient fault (the checkout ping
    replaces a dead connection, see create_engine), or only on those `retry_on` names; the last
    fault is raised."""
    for attempt, delay in enumerate((*delays, None)):
        try:
            async with sessions.begin() as session:
                return await work(session)
        except (DBAPIError, OSError) as error:
            again = retry_on(error) if retry_on else isinstance(error, OSError) or is_transient(error)
            if delay is None or not again:
                raise
            log.warning("database fault; trying again", extra={"what": what, "attempt": attempt + 1,
                                                               "error": type(error).__name__})
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def head_revision() -> str:
    """The newest migration's revision (reading the scripts costs a tenth of a second: once)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(sync_conn) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision`; run at every start so a new version migrates itself.
    A database already at the head is only looked at (a restart loads no migration script)."""
    if revision == "head":
        async with engine.connect() as conn:
            if await conn.run_sync(current_revision) == head_revision():
                return

    def run(sync_conn) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
