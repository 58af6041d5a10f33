"""database.pool_size / max_overflow: how many connections a bot's process may hold on PostgreSQL.

A district's bots share one server's max_connections (bench/bench_district_load.py: under load a
bot fills whatever pool it has), so the setting must reach the engine and bound what the bot opens.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from bot.config import ConfigError, parse_config
from bot.harness import Harness
from tests.conftest import _admin_sql, make_config, sample_raw


def problems_of(raw) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    return err.value.problems


def test_pool_defaults_fit_a_district_of_twenty_on_a_stock_server():
    config = make_config("postgresql+asyncpg://db/x")
    per_bot = config.database.pool_size + config.database.max_overflow
    assert 20 * per_bot <= 100 - 3 - 10  # PostgreSQL's default max_connections, less its reserve and some room


def test_bad_pool_settings_name_the_key():
    raw = sample_raw()
    raw["database"] = {"url": "postgresql+asyncpg://db/x", "pool_size": 1, "max_overflow": -1}
    assert problems_of(raw) == ["database.pool_size: Input should be greater than or equal to 2",
                                "database.max_overflow: Input should be greater than or equal to 0"]
    with pytest.raises(ConfigError):
        make_config("postgresql+asyncpg://db/x", database={"url": "postgresql+asyncpg://db/x", "pool_size": "many"})


async def test_a_bot_holds_no_more_connections_than_its_pool_allows(db_url):
    """Messages in ten groups at once: every one answered, and on PostgreSQL the bot's sessions on
    its database never exceed pool_size + max_overflow (one of them the instance lock's); not the
    shipped values, so that the test sees the config's reach the engine."""
    rooms = [{"name": f"居民{i}群", "category": "resident"} for i in range(10)]
    contacts = [{"name": "张警官", "id": "wx_zhang", "role": "officer", "rooms": [r["name"] for r in rooms]}]
    config = make_config(db_url, groups=rooms, contacts=contacts,
                         database={"url": db_url, "pool_size": 2, "max_overflow": 0})
    bot = Harness(config)
    app = await bot.start()
    try:
        postgres = make_url(db_url).get_backend_name() == "postgresql"
        if postgres:
            assert (app.engine.pool.size(), app.engine.pool._max_overflow) == (2, 0)  # noqa: SLF001
        peak = 0
        watching = True
        looking = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            import asyncpg

            url = make_url(db_url)
            conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                         password=url.password, database="postgres")
            try:
                while watching:
                    peak = max(peak, await conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", url.database))
                    looking.set()
                    await asyncio.sleep(0.005)
            finally:
                await conn.close()

        watcher = asyncio.create_task(watch()) if postgres else None
        if watcher:  # the first look is taken before the messages come (or the watcher's error raised)
            started = asyncio.ensure_future(looking.wait())
            await asyncio.wait([watcher, started], return_when=asyncio.FIRST_COMPLETED)
            if watcher.done():
                watcher.result()
        await asyncio.gather(*(bot.say(f"居民{i}", "请问办理居住证需要带什么材料？", room=f"居民{i % 10}群", settle=False)
                               for i in range(40)))
        await bot.settle()
        watching = False
        if watcher:
            await watcher
        answered = {r.out.room_id for r in bot.sent if r.out.mention_ids}
        assert answered == {bot.room_id(r["name"]) for r in rooms}
        if postgres:
            assert peak == 2  # the lock's and one for the work, which the ten chats took in turn
    finally:
        await bot.stop()


@pytest.mark.parametrize("setting, expected", [(None, "on"), (False, "off"), (True, "on")])
async def test_synchronous_commit_reaches_the_bots_connections_and_it_still_answers(pg_url, setting, expected):
    # PostgreSQL's setting: the embedded SQLite has its own (WAL, synchronous NORMAL). The test
    # databases commit without waiting for the disk (tests.conftest): as a stock server here.
    name = make_url(pg_url).database
    await asyncio.to_thread(_admin_sql, pg_url, f'ALTER DATABASE "{name}" RESET synchronous_commit')
    database = {"url": pg_url, **({} if setting is None else {"synchronous_commit": setting})}
    bot = Harness(make_config(pg_url, database=database))
    app = await bot.start()
    try:
        async with app.engine.connect() as conn:
            assert (await conn.exec_driver_sql("SHOW synchronous_commit")).scalar_one() == expected
        await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群")
        assert "租房合同" in bot.texts_to("幸福里居民群")[-1]
    finally:
        await bot.stop()


def test_a_bad_synchronous_commit_names_the_key():
    raw = sample_raw()
    raw["database"] = {"url": "postgresql+asyncpg://db/x", "synchronous_commit": "sometimes"}
    [problem] = problems_of(raw)
    assert problem.startswith("database.synchronous_commit:")
