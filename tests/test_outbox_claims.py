"""Two senders claiming from one outbox (two processes of one bot, as on a failover where the
instance lock was not yet seen): every row goes out once, never twice, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import OutboxSettings, QuietHours
from bot.messages import Outgoing
from bot.outbox import Outbox
from bot.transport import MemoryTransport
from storage import db
from storage.models import OutboxMessage

ROWS = 150


async def _sender(db_url: str, clock: FakeClock) -> tuple[Outbox, MemoryTransport, object]:
    engine = db.create_engine(db_url)  # an engine (a pool) of its own, as another process has
    transport = MemoryTransport(clock.now)
    await transport.start(lambda event: asyncio.sleep(0))
    settings = OutboxSettings(min_interval_seconds=0, jitter_seconds=0, poll_seconds=0.05)
    outbox = Outbox(bot="xingfuli", sessions=db.session_factory(engine), transport=transport, clock=clock,
                    settings=settings, quiet=QuietHours())
    return outbox, transport, engine


async def test_two_senders_of_one_outbox_never_send_a_row_twice(db_url):
    clock = FakeClock()
    setup = db.create_engine(db_url)
    await db.upgrade(setup)
    first, second = await _sender(db_url, clock), await _sender(db_url, clock)
    async with db.session_factory(setup).begin() as session:
        for i in range(ROWS):
            await first[0].enqueue(session, Outgoing(None, f"wx_{i}", f"第{i}条"))
    try:
        await first[0].start()
        await second[0].start()
        first[0].wake(), second[0].wake()
        deadline = time.monotonic() + 60
        async with db.session_factory(setup)() as session:
            while time.monotonic() < deadline:
                pending = (await session.execute(select(func.count()).where(
                    OutboxMessage.status.in_(("pending", "sending"))))).scalar_one()
                await session.rollback()
                if not pending:
                    break
                await asyncio.sleep(0.02)  # real time: two senders race for real
        sent = [r.out.text for r in first[1].sent + second[1].sent]
        counts = Counter(sent)
        assert len(counts) == ROWS and max(counts.values()) == 1, counts.most_common(3)
        assert first[1].sent and second[1].sent  # both claimed rows: they did race
        async with db.session_factory(setup)() as session:
            statuses = dict((await session.execute(select(OutboxMessage.status, func.count())
                                                   .group_by(OutboxMessage.status))).all())
            attempts = set((await session.execute(select(OutboxMessage.attempts))).scalars())
        assert statuses == {"sent": ROWS} and attempts == {1}
    finally:
        for outbox, transport, engine in (first, second):
            await outbox.stop()
            await engine.dispose()
        await setup.dispose()
