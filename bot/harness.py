"""A bot on a simulated clock with a transport the test (or scenario) drives.

Used by the tests and by `jingmin sim`: say things as people, move time, read what the bot sent.
Time moves only when told; every job and paced send due on the way fires at its own time.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import datetime, timedelta

from bot.app import App
from bot.clock import FakeClock
from bot.config import Config
from bot.messages import FriendRequest, IncomingMessage, MemberJoined, MessageKind, RoomInvitation, RoomRenamed
from bot.transport import MemoryTransport, RoomInfo, SentRecord
from bot.vault import test_key

SETTLE_HORIZON = timedelta(minutes=10)  # how far pacing may push the clock to flush replies


class HarnessError(Exception):
    pass


async def _settle_clock(harness) -> None:
    """Quiesce, then move the clock from one wake-up to the next while something is due within
    SETTLE_HORIZON (pacing, a reminder): one bot's Harness or a DistrictHarness alike."""
    await harness._quiesce()
    horizon = harness.clock.now() + SETTLE_HORIZON
    while await harness._has_due_before(horizon):
        nxt = harness.clock.next_wake()
        if nxt is None or nxt > horizon:
            break
        harness._move(nxt)
        await harness._quiesce()


async def _run_clock_until(harness, target: datetime, due_jobs) -> None:
    """Move the clock to `target`, stopping at every wake-up and at every time `due_jobs()` (the
    schedulers' next due times) names on the way, quiescing at each stop."""
    while True:
        await harness._quiesce()
        upcoming = [t for t in (harness.clock.next_wake(), *due_jobs()) if t is not None]
        nxt = min(upcoming) if upcoming else None
        if nxt is None or nxt > target:
            break
        harness._move(max(nxt, harness.clock.now()))
    harness._move(target)
    await harness._quiesce()


class Harness:
    def __init__(self, config: Config, *, clock: FakeClock | None = None, secret_key: str | None = None,
                 seed: int = 0, app_factory=None, district=None) -> None:
        self.config = config
        self.district = district  # a District object (a scenario's); else the config's file, if any
        self.clock = clock or FakeClock(tz=config.bot.tz)
        self.secret_key = secret_key or test_key()
        self.seed = seed
        self.transport = MemoryTransport(self.clock.now, [RoomInfo(g.room_id, g.name, 0) for g in config.groups])
        self._app_factory = app_factory
        self.app: App | None = None
        self._ids = itertools.count(1)
        self._read = 0
        self.names = {c.name: c.contact_id for c in config.contacts}
        self.rooms = {g.name: g.room_id for g in config.groups}

    async def start(self) -> App:
        factory = self._app_factory or (lambda **kw: App(**kw))
        extra = {"district": self.district} if self.district is not None else {}
        self.app = factory(config=self.config, transport=self.transport, secret_key=self.secret_key,
                           clock=self.clock, rng=random.Random(self.seed), tally_interval=3600, **extra)
        await self.app.start()
        await self.settle()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self) -> App:
        await self.stop()
        return await self.start()

    async def __aenter__(self) -> Harness:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ---- people and rooms ------------------------------------------------------------------

    def contact_id(self, name: str) -> str:
        return self.names.setdefault(name, f"wx:{name}")

    def room_id(self, name: str) -> str:
        if name not in self.rooms:
            raise HarnessError(f"unknown room '{name}'")
        return self.rooms[name]

    # ---- driving ---------------------------------------------------------------------------

    async def say(self, sender: str, text: str, room: str | None = None, *, kind: MessageKind = MessageKind.TEXT,
                  mention: bool = False, message_id: str | None = None, settle: bool = True,
                  attachment: bytes | None = None, attachment_name: str | None = None) -> str:
        message_id = message_id or f"m{next(self._ids)}"
        msg = IncomingMessage(
            id=message_id, sender_id=self.contact_id(sender), sender_name=sender, text=text,
            at=self.clock.now(), room_id=self.room_id(room) if room else None, room_name=room,
            kind=kind, mentions_bot=mention, attachment=attachment, attachment_name=attachment_name,
        )
        await self.transport.deliver(msg)
        if settle:
            await self.settle()
        return message_id

    async def join(self, room: str, names: list[str], inviter: str | None = None) -> None:
        await self.transport.deliver(MemberJoined(
            self.room_id(room), room, tuple(self.contact_id(n) for n in names), tuple(names),
            self.contact_id(inviter) if inviter else None, self.clock.now()))
        await self.settle()

    async def friend(self, name: str, hello: str = "") -> None:
        await self.transport.deliver(FriendRequest(self.contact_id(name), name, hello, self.clock.now()))
        await self.settle()

    async def invite(self, room_name: str, inviter: str) -> None:
        await self.transport.deliver(RoomInvitation(f"inv{next(self._ids)}", room_name,
                                                    self.contact_id(inviter), self.clock.now()))
        await self.settle()

    async def rename(self, room_name: str, new_name: str) -> None:
        """Someone renames the group: same room id, new name (later messages carry the new one)."""
        room_id = self.room_id(room_name)
        self.rooms[new_name] = room_id
        await self.transport.deliver(RoomRenamed(room_id, new_name, self.clock.now()))
        await self.settle()

    async def advance(self, delta: timedelta) -> None:
        await self.run_until(self.clock.now() + delta)

    async def run_until(self, target: datetime) -> None:
        """Move the clock to `target`, stopping at every due job and paced send on the way."""
        await _run_clock_until(self, target, lambda: [self._running().scheduler.next_due()])

    async def settle(self) -> None:
        """Let the bot finish what it is doing now, moving the clock only as pacing requires."""
        app = self._running()
        await _settle_clock(self)
        await app.tally.flush()

    def _move(self, when: datetime) -> None:
        self.clock.set(when)
        self._running().scheduler.wakeup()

    async def _has_due_before(self, horizon: datetime) -> bool:
        from sqlalchemy import func, select

        from storage.models import OutboxMessage

        app = self._running()
        async with app.sessions() as session:
            n = (await session.execute(select(func.count()).where(
                OutboxMessage.bot == app.name, OutboxMessage.status == "pending",
                OutboxMessage.not_before <= horizon))).scalar_one()
        return n > 0

    async def _quiesce(self, timeout: float = 20.0) -> None:
        app = self._running()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        calm = 0
        while calm < 3:
            await asyncio.sleep(0.002)
            busy = app.router.inflight or app.scheduler.busy or not app.outbox.idle.is_set()
            calm = 0 if busy else calm + 1
            if loop.time() > deadline:
                raise HarnessError("the bot did not settle within 20 s")

    def _running(self) -> App:
        if self.app is None:
            raise HarnessError("the bot is not running")
        return self.app

    # ---- reading ---------------------------------------------------------------------------

    @property
    def sent(self) -> list[SentRecord]:
        return self.transport.sent

    def take(self) -> list[SentRecord]:
        """What the bot sent since the last take()."""
        new = self.transport.sent[self._read:]
        self._read = len(self.transport.sent)
        return new

    def texts_to(self, name: str, records: list[SentRecord] | None = None) -> list[str]:
        """Texts sent to a room (by room name) or a person (private, by name)."""
        records = self.transport.sent if records is None else records
        target_room = self.rooms.get(name)
        target_contact = self.names.get(name)
        return [r.out.text for r in records
                if (target_room and r.out.room_id == target_room)
                or (target_contact and r.out.room_id is None and r.out.contact_id == target_contact)]


class DistrictHarness:
    """Several bots of one district on one database and one simulated clock: each a Harness with
    its own transport, settled together, since what one bot writes another one sends."""

    def __init__(self, configs: list[Config], *, clock: FakeClock | None = None, district=None,
                 secret_key: str | None = None) -> None:
        self.clock = clock or FakeClock(tz=configs[0].bot.tz)
        key = secret_key or test_key()  # a district's bots share one key: one opens the tips another took
        self.bots = {c.bot.name: Harness(c, clock=self.clock, secret_key=key, seed=i, district=district)
                     for i, c in enumerate(configs)}
        self._read: dict[str, int] = {name: 0 for name in self.bots}

    def __getitem__(self, bot: str) -> Harness:
        return self.bots[bot]

    async def start(self) -> None:
        for h in self.bots.values():  # one after the other, as processes would come up
            await h.start()
        await self.settle()

    async def stop(self) -> None:
        for h in self.bots.values():
            await h.stop()

    async def __aenter__(self) -> DistrictHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def bot_of(self, name: str, room: str | None = None) -> Harness:
        """The bot a person talks to: the one that has the room, or (privately) whose friend they are."""
        if room is not None:
            found = [h for h in self.bots.values() if room in h.rooms]
        else:
            found = [h for h in self.bots.values() if any(c.name == name and c.friend for c in h.config.contacts)]
        if len(found) != 1:
            where = f"room '{room}'" if room else f"a friend named '{name}'"
            raise HarnessError(f"{len(found)} bots have {where}: name the bot")
        return found[0]

    async def say(self, sender: str, text: str, room: str | None = None, *, bot: str | None = None,
                  **kwargs) -> str:
        harness = self._named(sender, bot) if bot else self.bot_of(sender, room)
        message_id = await harness.say(sender, text, room, settle=False, **kwargs)
        await self.settle()
        return message_id

    async def join(self, room: str, names: list[str], inviter: str | None = None) -> None:
        await self.bot_of("", room).join(room, names, inviter)
        await self.settle()

    async def friend(self, name: str, hello: str = "", *, bot: str | None = None) -> None:
        await self._named(name, bot).friend(name, hello)
        await self.settle()

    async def invite(self, room_name: str, inviter: str, *, bot: str | None = None) -> None:
        await self._named(inviter, bot).invite(room_name, inviter)
        await self.settle()

    def _named(self, name: str, bot: str | None) -> Harness:
        """`bot`, or the one bot that knows this person (a contact of its config)."""
        if bot is not None:
            if bot not in self.bots:
                raise HarnessError(f"unknown bot '{bot}' (bots: {', '.join(self.bots)})")
            return self.bots[bot]
        found = [h for h in self.bots.values() if any(c.name == name for c in h.config.contacts)]
        if len(found) != 1:
            raise HarnessError(f"{'several' if found else 'no'} bots know '{name}': name the bot (bot: NAME)")
        return found[0]

    async def settle(self) -> None:
        await _settle_clock(self)
        for h in self.bots.values():
            await h._running().tally.flush()

    async def advance(self, delta: timedelta) -> None:
        await self.run_until(self.clock.now() + delta)

    async def run_until(self, target: datetime) -> None:
        await _run_clock_until(self, target, lambda: [h._running().scheduler.next_due() for h in self.bots.values()])

    def _move(self, when: datetime) -> None:
        self.clock.set(when)
        for h in self.bots.values():
            h._running().scheduler.wakeup()

    async def _quiesce(self) -> None:
        for _ in range(2):  # a bot's work may have woken another's sender
            for h in self.bots.values():
                await h._quiesce()

    async def _has_due_before(self, horizon: datetime) -> bool:
        for h in self.bots.values():
            if await h._has_due_before(horizon):
                return True
        return False

    # ---- reading ---------------------------------------------------------------------------

    def sent(self) -> list[tuple[str, SentRecord]]:
        """Everything every bot sent, as (bot, record), in the order it went out."""
        return self.since({})[0]

    def since(self, marks: dict[str, int]) -> tuple[list[tuple[str, SentRecord]], dict[str, int]]:
        """What each bot sent after its mark (how many of its records were seen), by time, and the
        new marks. Per bot: a bot's later record may be stamped before another's earlier one."""
        new = [(name, r) for name, h in self.bots.items() for r in h.sent[marks.get(name, 0):]]
        return sorted(new, key=lambda item: item[1].at), {name: len(h.sent) for name, h in self.bots.items()}

    def take(self) -> list[tuple[str, SentRecord]]:
        """What the bots sent since the last take(), as (bot, record)."""
        new, self._read = self.since(self._read)
        return new

    def texts_to(self, name: str, bot: str | None = None) -> list[str]:
        """Texts sent to a room or a person (by name), by any bot or by `bot`."""
        return [t for b, h in self.bots.items() if bot in (None, b) for t in h.texts_to(name)]
