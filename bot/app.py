"""The bot assembled: config, database, directory, router, outbox, scheduler and transport.

Knows no feature by name: features arrive as plugins (bot.plugins finds them by name), and what
they offer each other is declared on the Plugin and reached through typed methods here
(`service`, `calendar`, `report_lines`; register rows through the registry). Handlers reach WeChat only through the
small port below (`accept_friend`, `accept_invitation`, `list_rooms`, `bot_id`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from pathlib import Path
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Coroutine, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import plugins as plugin_loader
from bot import pruning
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.dialogs import Dialogs
from bot.district import District, load_district
from bot.directory import Directory
from bot.instance import InstanceLock
from bot.messages import FriendRequest, Outgoing, RoomInvitation
from bot.outbox import HIGH, Outbox
from bot.plugin import Plugin
from bot.registry import Registry, RegistryError
from bot.router import Router
from bot.scheduler import Scheduler
from bot.tally import Tally
from bot.transport import RoomInfo, Transport, TransportError
from bot.vault import Vault
from bot.workcal import WorkCalendar, unknown_year_warning
from storage import calendar_days, db

log = logging.getLogger(__name__)
T = TypeVar("T")

FAILED_TEXT = "有一条发往{where}的消息多次发送失败，已停止重试。请查看日志（outbox #{id}）。"
OUTAGE_TEXT = "刚才与微信断开了{duration}，这期间的消息可能没有收到。"
SKIPPED_TEXT = "机器人启动时有{n}项保存的内容读不出来，已跳过，其余照常运行：\n{lines}\n详情请查看日志。"


class Unclassified:
    """What a bot without a classifier plugin makes of every text."""

    intent = "other"
    confidence = 0.0
    detail: dict = {}
    urgent = False  # an emergency's call for help (handlers.intents.Classification.urgent)


class App:
    def __init__(self, config: Config, transport: Transport, *, secret_key: str,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 plugins: list[Plugin] | None = None, tally_interval: float = 1.0,
                 district: District | None = None) -> None:
        if plugins is None:
            plugins = plugin_loader.load_all(config.plugins)
        self.config = config
        self.name = config.bot.name
        self.transport = transport
        self.clock = clock or SystemClock(config.bot.tz)
        self.rng = rng or random.Random()
        self.registry = Registry(plugins)
        missing = [key for key in self.registry.config_sections if not hasattr(config, key)]
        if missing:
            raise RegistryError(f"config was validated without the section(s) {', '.join(missing)}: "
                                "parse it with the same plugins (bot.config.parse_config(plugins=...))")
        self.vault = Vault(secret_key)
        self.classify: Callable[[str], Any] = self.registry.classifier or (lambda text: Unclassified())
        self.directory = Directory(self.name)
        self.dialogs = Dialogs(self.name, self.registry.dialogs, timedelta(minutes=config.dialogs.timeout_minutes))
        self.calendar = WorkCalendar(config.calendar.extra_holidays, config.calendar.extra_workdays,
                                     on_unknown_year=_warn_unknown_year)
        self._services: dict[type, Any] = {}
        self._tasks: set[asyncio.Task] = set()
        self._tally_interval = tally_interval
        self.engine: AsyncEngine | None = None
        self.started = False
        self.skipped: list[str] = []  # stored things start could not load (told to the officers)
        # The district this bot's community belongs to (units, district schedules), if any.
        self.district = district if district is not None else (
            load_district(config.district) if config.district else None)

    @property
    def data_dir(self) -> Path:
        """Where the bot keeps its files (charts, exports, the key): config `data_dir`."""
        return self.config.data_path

    # ---- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        database = self.config.database
        self.engine = db.create_engine(self.config.database_url, database.pool_size, database.max_overflow,
                                       synchronous_commit=database.synchronous_commit)
        wechat = self.config.wechat
        self.instance = InstanceLock(self.engine, self.name, note=f"web {wechat.web_host}:{wechat.web_port}")
        try:
            await self.instance.acquire()  # AlreadyRunning: another process runs this bot on this database
            try:
                await self._start()
            finally:
                if not self.started:
                    await self.instance.release()
        except BaseException:
            await self.engine.dispose()
            raise
        self.spawn(self.instance.keep(), name="instance-lock")

    async def _start(self) -> None:
        await db.upgrade(self.engine)
        self.sessions: async_sessionmaker[AsyncSession] = db.session_factory(self.engine)
        self.outbox = Outbox(bot=self.name, sessions=self.sessions, transport=self.transport, clock=self.clock,
                             settings=self.config.outbox, quiet=self.config.quiet_hours, rng=self.rng,
                             confidential_sources=self.registry.confidential_sources)
        self.outbox.on_failed = self._report_failed
        self.outbox.is_friend = self._is_friend
        self.tally = Tally(self.name, self.sessions, self.clock, self.vault.mac_key, self._tally_interval)
        self.router = Router(self)
        self.scheduler = Scheduler(self.clock, self.sessions, self.name)
        self.dialogs.attach(self)
        async with self.sessions.begin() as session:
            await self.directory.load(session)
            await self.directory.seed(session, self.config, self.clock.now())
            await self.dialogs.load(session)
            await self.router.load(session)
            self.calendar.set_stored(await calendar_days.load(session, self.name))  # /节假日's days
        for spec in self.registry.services.values():
            self._services[spec.type] = await spec.factory(self)
        for kind, handler in self.registry.jobs.items():
            self.scheduler.register(kind, self._job_runner(handler))
        self.scheduler.register(pruning.JOB_KIND, self._job_runner(pruning.run_job))
        await self.outbox.start()
        await self.scheduler.load()
        for what, error in self.scheduler.skipped:
            self.skipped_at_start(what, error)
        await pruning.schedule(self)
        for hook in self.registry.startup:
            await hook(self)
        await self.dialogs.recover(self)
        await self.scheduler.start()
        await self._report_skipped()
        await self.tally.start()
        self.classify("你好")  # load the word list and the model now, not on a resident's first message
        await self.transport.start(self.router.handle_event)
        self.started = True
        log.info("bot started", extra={"bot": self.name, "plugins": [p.name for p in self.registry.plugins]})

    def skipped_at_start(self, what: str, error: BaseException) -> None:
        """A stored row start cannot load: one line in the log, one in the officers' note; the
        bot starts without it rather than not at all."""
        log.error("skipped at start: cannot be loaded", extra={"what": what, "error": f"{type(error).__name__}: {error}"})
        self.skipped.append(what)

    async def _report_skipped(self) -> None:
        if not self.skipped:
            return
        text = SKIPPED_TEXT.format(n=len(self.skipped), lines="\n".join(f"- {w}" for w in self.skipped[:20]))
        async with self.transaction() as session:
            for person in self.directory.with_roles({"officer"}):
                await self.send(session, Outgoing(None, person.id, text), priority=HIGH, source="startup-report")

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        await self.transport.stop()
        await self.scheduler.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.tally.stop()
        await self.outbox.stop()
        await self.instance.release()
        if self.engine is not None:
            await self.engine.dispose()
        log.info("bot stopped", extra={"bot": self.name})

    def _is_friend(self, contact_id: str) -> bool:
        person = self.directory.people.get(contact_id)
        return person is not None and person.is_friend

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        """A background task the App keeps (so it is not collected) and ends on stop."""
        task = asyncio.get_running_loop().create_task(self._logged(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _logged(coro, name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task failed", extra={"task": name})

    async def connected(self) -> None:
        """The gateway is (back) up: plugins refresh what they keep of the account."""
        for handler in self.registry.events.get("connected", []):
            try:
                await handler(self)
            except Exception:
                log.exception("on connect failed", extra={"handler": getattr(handler, "__name__", "?")})

    # ---- what plugins offer each other ---------------------------------------------------------

    def service(self, service_type: type[T]) -> T:
        """The object a plugin declared with `provides(service_type)`, built at start."""
        try:
            return self._services[service_type]
        except KeyError:
            if service_type in self.registry.services:
                raise RuntimeError(f"{service_type.__name__} is used before the bot has started") from None
            raise LookupError(f"no loaded plugin provides {service_type.__name__}") from None

    async def report_lines(self, session: AsyncSession, period) -> list[str]:
        """The lines plugins add to the weekly report; one that fails is left out and logged."""
        lines: list[str] = []
        for spec in self.registry.report_lines:
            try:
                lines.extend(await spec.provider(self, session, period))
            except Exception:
                log.exception("report line failed", extra={"line": spec.name})
        return lines

    # ---- the port to WeChat handlers may use ---------------------------------------------------

    @property
    def bot_id(self) -> str:
        return self.transport.bot_id

    async def accept_friend(self, request: FriendRequest) -> bool:
        """True once the gateway accepted it; False (logged) when it refused or is down."""
        try:
            await self.transport.accept_friend(request)
            return True
        except TransportError as error:
            log.warning("friend accept failed", extra={"contact_id": request.contact_id, "error": str(error)})
            return False

    async def accept_invitation(self, invitation: RoomInvitation) -> bool:
        try:
            await self.transport.accept_invitation(invitation)
            return True
        except TransportError as error:
            log.warning("invitation accept failed", extra={"error": str(error)})
            return False

    async def list_rooms(self) -> list[RoomInfo] | None:
        """The rooms the account is in (None: the gateway could not say)."""
        try:
            return await self.transport.list_rooms()
        except TransportError as error:
            log.warning("room list failed", extra={"error": str(error)})
            return None

    # ---- sending from jobs and events ----------------------------------------------------------

    def _job_runner(self, handler):
        async def run(payload: dict[str, Any], due) -> None:
            await handler(self, payload, due)
            self.outbox.wake()

        return run

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """For jobs and events: one transaction; what it enqueued goes out once it has committed."""
        async with self.sessions.begin() as session:
            yield session
        self.outbox.wake()

    async def send(self, session: AsyncSession, out: Outgoing, **kwargs: Any) -> int:
        """For jobs and events, which have no message Context: enqueue in `session`."""
        return await self.outbox.enqueue(session, out, **kwargs)

    async def report_outage(self, outage: timedelta) -> None:
        """The gateway is back after `outage`: each officer gets one private note, if it lasted
        at least wechat.outage_note_minutes (what was said meanwhile may never arrive)."""
        if outage < timedelta(minutes=self.config.wechat.outage_note_minutes):
            return
        text = OUTAGE_TEXT.format(duration=_minutes_text(outage))
        async with self.transaction() as session:
            for person in self.directory.with_roles({"officer"}):
                await self.send(session, Outgoing(None, person.id, text), priority=HIGH, source="outage-note")
        log.info("officers told of the outage", extra={"outage_seconds": round(outage.total_seconds())})

    async def _report_failed(self, row) -> None:
        where = self.directory.group(row.room_id).name if row.room_id and self.directory.group(row.room_id) \
            else "私聊"
        async with self.sessions.begin() as session:
            for person in self.directory.with_roles({"officer"}):
                await self.outbox.enqueue(session, Outgoing(None, person.id, FAILED_TEXT.format(where=where, id=row.id)),
                                          priority=HIGH, source="failure-report")
        self.outbox.wake()


def _minutes_text(span: timedelta) -> str:
    """3分钟, 1小时5分钟: rounded to the minute, at least 1."""
    minutes = max(1, int(span.total_seconds() / 60 + 0.5))
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}小时" if hours else "") + (f"{minutes}分钟" if minutes or not hours else "")


def _warn_unknown_year(year: int) -> None:
    log.warning(unknown_year_warning(year), extra={"year": year})
