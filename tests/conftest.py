"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

PostgreSQL runs when JINGMIN_TEST_PG_URL is set (CI sets it); otherwise those tests skip with a
visible reason. With CI=true a missing variable or an unreachable server fails the run. Each
PostgreSQL test gets a database of its own, created from the server named by the URL.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from bot.config import Config, parse_config
from bot.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("JINGMIN_TEST_PG_URL")
IN_CI = os.environ.get("CI") == "true"


def _admin(url: str):
    import psycopg2

    from storage.db import sync_url

    dsn = sync_url(url).replace("postgresql+psycopg2://", "postgresql://")
    try:
        conn = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL at JINGMIN_TEST_PG_URL is unreachable: {exc}".splitlines()[0])
    conn.autocommit = True
    return conn


@contextmanager
def fresh_postgres(url: str):
    """A throw-away database per test: tests (and parallel runs) never see each other's rows."""
    from sqlalchemy.engine import make_url

    name = f"jingmin_t_{uuid.uuid4().hex[:12]}"
    admin = _admin(url)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but JINGMIN_TEST_PG_URL is not set: the PostgreSQL tests must run on CI")
        pytest.skip("PostgreSQL not configured: set JINGMIN_TEST_PG_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    with fresh_postgres(PG_URL) as url:
        yield url


def sample_raw() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def make_config(db_url: str, **sections) -> Config:
    """The sample community from config.yaml on the given database, with sections replaced."""
    raw = sample_raw()
    raw["database"] = {"url": db_url}
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
