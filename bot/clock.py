"""Time as a dependency: the bot asks a Clock, tests and the simulator move a FakeClock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    def __init__(self, tz: tzinfo = SHANGHAI) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))


class FakeClock:
    """A clock that only moves when told to; sleepers wake in due order as it passes them."""

    def __init__(self, start: datetime | None = None, tz: tzinfo = SHANGHAI) -> None:
        self.tz = tz
        self._now = (start or datetime(2026, 12, 7, 8, 0, tzinfo=tz)).astimezone(tz)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future

    def next_wake(self) -> datetime | None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # a cancelled sleeper
        return self._sleepers[0][0] if self._sleepers else None

    def set(self, when: datetime) -> None:
        """Move to `when` (never backwards) and wake every sleeper due by then."""
        if when > self._now:
            self._now = when.astimezone(self.tz)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
