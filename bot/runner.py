"""Runs the bot until Ctrl-C or SIGTERM, on the transport the config names."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app import App
from bot.clock import SystemClock
from bot.config import Config
from bot.transport import MemoryTransport, Transport

log = logging.getLogger(__name__)


def make_transport(config: Config, clock: SystemClock) -> Transport:
    # The simulator and wechaty transports arrive with the transport issue; until then every
    # choice runs on the in-memory transport so the core can be started and inspected.
    return MemoryTransport(clock.now)


async def run_bot(config: Config, secret_key: str) -> int:
    clock = SystemClock()
    app = App(config, make_transport(config, clock), secret_key=secret_key, clock=clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start()
    print(f"jingmin is running ({config.bot.transport} transport, database {config.database.url}); Ctrl-C stops it",
          flush=True)
    try:
        await stop.wait()
    finally:
        await app.stop()
    return 0
