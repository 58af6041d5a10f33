"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL runs when JINGMIN_TEST_PG_URL is set (CI sets it); otherwise those tests skip with a
visible reason. With CI=true a missing variable or an unreachable server fails the run. Each
PostgreSQL test gets a database of its own, created from the server named by the URL.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.clock import SHANGHAI, FakeClock
from bot.config import Config, parse_config
from bot.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("JINGMIN_TEST_PG_URL")
IN_CI = os.environ.get("CI") == "true"


def pytest_configure(config) -> None:
    # The suite trains many guides (each test's config): in the test process, not a child each
    # (see handlers/guide/retrieval.py TRAIN_APART). Here, not at import: the benches import this file.
    from handlers.guide import retrieval

    retrieval.TRAIN_APART = False


def _on_database(url: str, work):
    """`await work(conn)` on an asyncpg connection to the database `url` names (as the bot connects)."""
    import asyncpg

    parsed = make_url(url)

    async def run():
        conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                     password=parsed.password, database=parsed.database, timeout=5)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _admin_sql(url: str, *statements: str) -> None:
    """Run statements, one after the other, on the server of `url`."""
    import asyncpg

    async def run(conn) -> None:
        for statement in statements:
            await conn.execute(statement)

    try:
        _on_database(url, run)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at JINGMIN_TEST_PG_URL: {exc}".splitlines()[0])


def _migrate(database_url: str) -> None:
    """The schema at head in the database `database_url` names, as the bot makes it at start."""
    from storage import db

    async def run() -> None:
        engine = db.create_engine(database_url)
        try:
            await db.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


# A throw-away database is thrown away: no need to wait for the disk at every commit.
_NO_FSYNC = 'ALTER DATABASE "{name}" SET synchronous_commit = off'
_templates: dict[str, str] = {}


def _migrated_template(url: str) -> str:
    """One database per test process with the schema at head, copied for each test: running
    fourteen migrations for every PostgreSQL test cost more than most tests themselves."""
    if url not in _templates:
        name = f"jingmin_tmpl_{uuid.uuid4().hex[:12]}"
        _admin_sql(url, f'CREATE DATABASE "{name}"', _NO_FSYNC.format(name=name))
        template_url = make_url(url).set(database=name).render_as_string(hide_password=False)
        _migrate(template_url)
        atexit.register(_admin_sql, url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        atexit.register(_drop_reusable, url)
        _fingerprints[url] = _on_database(template_url, lambda conn: conn.fetchval(_FINGERPRINT))
        _templates[url] = name
    return _templates[url]


_sqlite_template: list[Path] = []


def migrated_sqlite(path: Path) -> str:
    """A SQLite file at `path` with the schema at head, copied from one migrated per test process
    (as for PostgreSQL: the migrations cost more than many a test)."""
    if not _sqlite_template:
        folder = Path(tempfile.mkdtemp(prefix="jingmin-tmpl-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "template.db"
        _migrate(f"sqlite+aiosqlite:///{template}")
        _sqlite_template.append(template)
    for suffix in ("", "-wal"):  # closed cleanly there is no -wal; if there were, it belongs to it
        source = _sqlite_template[0].with_name(_sqlite_template[0].name + suffix)
        if source.exists():
            shutil.copyfile(source, path.with_name(path.name + suffix))
    return f"sqlite+aiosqlite:///{path}"


def _drop_reusable(url: str) -> None:
    for name in _reusable.get(url, []):
        _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_postgres(url: str, *, migrated: bool = False):
    """A throw-away database per test: tests (and parallel runs) never see each other's rows.
    `migrated`: a database with the schema at head (what the bot would make at start), empty.

    Creating and dropping a database cost half a second a test (a thousand PostgreSQL tests): a
    migrated one is emptied after its test instead (its other sessions ended, every row deleted,
    sequences restarted) and given to the next test of this process; one whose schema the test
    changed, or that could not be emptied, is dropped."""
    if migrated:
        name = _reusable[url].pop() if _reusable.get(url) else _create(url, migrated=True)
    else:
        name = _create(url, migrated=False)
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        if migrated and _emptied(url, name):
            _reusable.setdefault(url, []).append(name)
        else:
            _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_reusable: dict[str, list[str]] = {}  # server URL -> emptied migrated databases, free for a test
_fingerprints: dict[str, str] = {}

# Every table's columns and types, constraints, indexes, triggers, functions and sequences, and
# the migration it stands at: a test that added a failing constraint or dropped a table has
# changed one of them, and its database is not given to another test.
_FINGERPRINT = """SELECT md5(concat_ws('|',
  (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
     FROM information_schema.columns WHERE table_schema = 'public'),
  (SELECT string_agg(conrelid::regclass::text || '.' || conname || ':' || pg_get_constraintdef(oid), ','
     ORDER BY conrelid::regclass::text, conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
  (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(tgrelid::regclass::text || '.' || tgname, ',' ORDER BY tgrelid::regclass::text, tgname)
     FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
  (SELECT string_agg(sequencename, ',' ORDER BY sequencename) FROM pg_sequences WHERE schemaname = 'public'),
  (SELECT string_agg(version_num, ',') FROM alembic_version)))"""
_EMPTY = """DO $$ DECLARE r record; BEGIN
  PERFORM set_config('session_replication_role', 'replica', true);  -- no foreign-key order needed
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('DELETE FROM %I', r.tablename);
  END LOOP;
  FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER SEQUENCE %I RESTART', r.sequencename);
  END LOOP;
END $$"""


def _create(url: str, *, migrated: bool) -> str:
    name = f"jingmin_t_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{_migrated_template(url)}"' if migrated else ""
    _admin_sql(url, f'CREATE DATABASE "{name}"{template}', _NO_FSYNC.format(name=name))
    return name


def _emptied(url: str, name: str) -> bool:
    """End the test's leftover sessions on `name` and delete its rows; False if its schema is not
    the template's any more (or anything failed): it is dropped instead."""
    async def run(conn) -> bool:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        if await conn.fetchval(_FINGERPRINT) != _fingerprints[url]:
            return False
        async with conn.transaction():
            await conn.execute(_EMPTY)
        return True

    try:
        return _on_database(make_url(url).set(database=name).render_as_string(hide_password=False), run)
    except Exception:  # noqa: BLE001 - whatever went wrong, a new database is the safe answer
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        if "blank_database" in request.keywords:
            yield f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}"
        else:
            yield migrated_sqlite(tmp_path / "jingmin.db")
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but JINGMIN_TEST_PG_URL is not set: the PostgreSQL tests must run on CI")
        pytest.skip("PostgreSQL not configured: set JINGMIN_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    # A test that builds the schema itself (migrations from an old revision) asks for a blank one.
    with fresh_postgres(PG_URL, migrated="blank_database" not in request.keywords) as url:
        yield url


@pytest.fixture
def pg_url():
    """PostgreSQL only (pg_terminate_backend, advisory locks, its settings): a database of this test's own."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but JINGMIN_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL not configured: set JINGMIN_TEST_PG_URL")
    with fresh_postgres(PG_URL) as url:  # not one of the reused ones: a test may change its settings
        yield url


@pytest.fixture
def pg_migrated_url():
    """PostgreSQL only, with the schema at head (as db_url's postgresql one): for what only
    PostgreSQL does (e.g. commits that wait for its disk)."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but JINGMIN_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL not configured: set JINGMIN_TEST_PG_URL")
    with fresh_postgres(PG_URL, migrated=True) as url:
        yield url


@pytest.fixture
async def pg_bot(pg_url):
    """The sample community's bot on PostgreSQL only, on a Monday at 08:00."""
    harness = Harness(make_config(pg_url), clock=FakeClock(datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)))
    await harness.start()
    yield harness
    await harness.stop()


def sent_statements(engine) -> list[str]:
    """Every statement `engine` sends from now on, in full, in order."""
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: sent.append(statement))
    return sent


def sample_raw() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def make_config(db_url: str, **sections) -> Config:
    """The sample community from config.yaml on the given database, with sections replaced.
    Its files (charts, exports) go beside a SQLite database, or to a new temporary folder."""
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    sqlite_file = make_url(db_url).database if db_url.startswith("sqlite") else None
    raw["data_dir"] = str(Path(sqlite_file).parent) if sqlite_file else tempfile.mkdtemp(prefix="jingmin-test-")
    raw.update(sections)
    return parse_config(raw, env={})


@pytest.fixture
def config(db_url) -> Config:
    return make_config(db_url)


@pytest.fixture
async def bot(config):
    harness = Harness(config)
    await harness.start()
    yield harness
    await harness.stop()


@pytest.fixture
def calendar_knows(monkeypatch):
    """calendar_knows(2026): the years whose published 调休 arrangement "chinesecalendar" has, so a
    test does not depend on what the installed release knows (its days for those years are used)."""
    from bot import workcal

    def only(*years: int) -> workcal.OfficialDays:
        data = workcal.package_days()
        injected = workcal.OfficialDays({d: n for d, n in data.holidays.items() if d.year in years},
                                        {d: n for d, n in data.workdays.items() if d.year in years},
                                        frozenset(years))
        monkeypatch.setattr(workcal, "official_days", lambda: injected)
        return injected

    return only
