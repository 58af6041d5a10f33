"""Fixtures: the real wechaty SDK (our WechatyTransport) against the simulated WeChat on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.wechaty_compat import prepare, reset_sdk_caches

prepare()

from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.runner import wire  # noqa: E402
from bot.simulator import PuppetSimulator  # noqa: E402
from bot.simulator.seed import world_from_config  # noqa: E402
from bot.vault import test_key  # noqa: E402
from bot.wechaty_transport import WechatyTransport  # noqa: E402
from tests.conftest import make_config  # noqa: E402

WAIT = 15.0
FAST_OUTBOX = {"min_interval_seconds": 0, "jitter_seconds": 0, "room_hourly_cap": 1000, "max_attempts": 5}


class LiveBot:
    """App + WechatyTransport + PuppetSimulator; the world is the simulated WeChat."""

    def __init__(self, config, world, simulator, app, transport) -> None:
        self.config, self.world, self.simulator, self.app, self.transport = config, world, simulator, app, transport

    def room(self, name: str) -> str:
        return next(r.id for r in self.world.rooms.values() if r.topic == name)

    def contact(self, name: str) -> str:
        return next(c.id for c in self.world.contacts.values() if c.name == name)

    def say(self, sender: str, text: str, room: str | None = None, **kw) -> str:
        return self.world.inject_message(self.contact(sender), text, room_id=self.room(room) if room else None, **kw)

    async def wait_sent(self, n: int, timeout: float = WAIT):
        return await self.world.wait_sent(n, timeout)

    async def until(self, condition, timeout: float = WAIT) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.02)
        await asyncio.wait_for(poll(), timeout)


@contextlib.asynccontextmanager
async def live_bot(db_url: str, tmp_path=None, *, clock=None, wired: bool = False,
                   transport_options: dict | None = None, **sections):
    """The bot over the real SDK against the simulated WeChat.

    `clock`: one clock for the bot, its transport and the simulated WeChat (a FakeClock the test
    moves); default the system's. `wired`: connected as `jingmin run` connects it (bot.runner.wire:
    the room refresh and the outage note), instead of only pausing the outbox while down."""
    reset_sdk_caches()
    sections.setdefault("outbox", FAST_OUTBOX)
    config = make_config(db_url, **sections)
    world = world_from_config(config, clock=clock)
    simulator = PuppetSimulator(world)
    await simulator.start()
    options = {"first_delay": 0.1, "max_delay": 1.0, **({"now": clock.now} if clock else {}), **(transport_options or {})}
    transport = WechatyTransport(simulator.endpoint, simulator.token, **options)
    app = App(config, transport, secret_key=test_key(), clock=clock or SystemClock(), tally_interval=3600)
    if wired:
        wire(app, transport)
    else:
        transport.on_connection_change = lambda up, outage=None: app.outbox.resume() if up else app.outbox.pause()
    try:
        await asyncio.wait_for(app.start(), WAIT)
        yield LiveBot(config, world, simulator, app, transport)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.stop(), WAIT)
        await simulator.stop()
        reset_sdk_caches()


@pytest.fixture(autouse=True)
def sdk_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "wechaty"))
