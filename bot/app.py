"""The bot assembled: config, database, directory, router, outbox, scheduler and transport.

Knows no feature by name: features arrive as plugins (handlers.PLUGINS).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.dialogs import Dialogs
from bot.directory import Directory
from bot.messages import Outgoing
from bot.outbox import HIGH, Outbox
from bot.plugin import Plugin
from bot.registry import Registry
from bot.router import Router
from bot.scheduler import Scheduler
from bot.tally import Tally
from bot.transport import Transport
from bot.vault import Vault
from storage import db

log = logging.getLogger(__name__)

FAILED_TEXT = "有一条发往{where}的消息多次发送失败，已停止重试。请查看日志（outbox #{id}）。"


class App:
    def __init__(self, config: Config, transport: Transport, *, secret_key: str,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 plugins: list[Plugin] | None = None, classify: Callable[[str], Any] | None = None,
                 tally_interval: float = 1.0) -> None:
        if plugins is None or classify is None:
            import handlers

            plugins = handlers.load_plugins() if plugins is None else plugins
            classify = handlers.classify if classify is None else classify
        self.config = config
        self.name = config.bot.name
        self.transport = transport
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.classify = classify
        self.vault = Vault(secret_key)
        self.registry = Registry(plugins)
        self.directory = Directory(self.name)
        self.dialogs = Dialogs(self.name, self.registry.dialogs, timedelta(minutes=config.dialogs.timeout_minutes))
        self.services: dict[str, Any] = {}  # feature objects plugins share (calendar, guide index ...)
        self._tally_interval = tally_interval
        self.engine: AsyncEngine | None = None
        self.started = False

    async def start(self) -> None:
        self.engine = db.create_engine(self.config.database.url)
        await db.upgrade(self.engine)
        self.sessions: async_sessionmaker[AsyncSession] = db.session_factory(self.engine)
        self.outbox = Outbox(bot=self.name, sessions=self.sessions, transport=self.transport, clock=self.clock,
                             settings=self.config.outbox, quiet=self.config.quiet_hours, rng=self.rng)
        self.outbox.on_failed = self._report_failed
        self.tally = Tally(self.name, self.sessions, self.clock, self.vault.mac_key, self._tally_interval)
        self.router = Router(self)
        self.scheduler = Scheduler(self.clock, db.sync_url(self.config.database.url), self.name)
        async with self.sessions.begin() as session:
            await self.directory.load(session)
            await self.directory.seed(session, self.config, self.clock.now())
            await self.dialogs.load(session)
            await self.router.load(session)
        for kind, handler in self.registry.jobs.items():
            self.scheduler.register(kind, self._job_runner(handler))
        await self.outbox.start()
        await self.scheduler.start()
        for hook in self.registry.startup:
            await hook(self)
        await self.tally.start()
        self.classify("你好")  # load the word list and the model now, not on a resident's first message
        await self.transport.start(self.router.handle_event)
        self.started = True
        log.info("bot started", extra={"bot": self.name, "plugins": [p.name for p in self.registry.plugins]})

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        await self.transport.stop()
        await self.scheduler.stop()
        await self.tally.stop()
        await self.outbox.stop()
        if self.engine is not None:
            await self.engine.dispose()
        log.info("bot stopped", extra={"bot": self.name})

    def _job_runner(self, handler):
        async def run(payload: dict[str, Any], due) -> None:
            await handler(self, payload, due)
            self.outbox.wake()

        return run

    async def send(self, session: AsyncSession, out: Outgoing, **kwargs: Any) -> int:
        """For jobs and events, which have no message Context: enqueue in `session`."""
        return await self.outbox.enqueue(session, out, **kwargs)

    async def _report_failed(self, row) -> None:
        where = self.directory.group(row.room_id).name if row.room_id and self.directory.group(row.room_id) \
            else "私聊"
        async with self.sessions.begin() as session:
            for person in self.directory.with_roles({"officer"}):
                await self.outbox.enqueue(session, Outgoing(None, person.id, FAILED_TEXT.format(where=where, id=row.id)),
                                          priority=HIGH, source="failure-report")
        self.outbox.wake()
