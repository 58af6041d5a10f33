"""Core pipeline throughput: 20,000 mixed group messages through the router on the in-memory
transport with the SQLite file database. Target: >= 3,000 messages/s on one core, peak RSS < 150 MB.

    .venv/bin/python bench/bench_pipeline.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from bot.messages import IncomingMessage, MessageKind  # noqa: E402
from bot.transport import MemoryTransport  # noqa: E402
from bot.vault import test_key  # noqa: E402
from tests.conftest import make_config  # noqa: E402

CHATTER = ["早上好", "今天天气不错", "吃了吗", "哈哈哈", "收到", "谢谢张警官", "👍👍", "楼下快递到了吗",
           "明天几点集合", "好的好的", "我家孩子放学了", "小区里的桂花开了真香"]
QUESTIONS = ["请问办居住证要带什么材料", "身份证丢了怎么补办", "警务室几点上班", "开无犯罪记录证明要什么"]
SUGGESTIONS = ["建议小区门口加个路灯", "建议物业晚上多巡逻几次"]


def make_messages(n: int, rooms: list[tuple[str, str]], rng: random.Random,
                  actionable: float = 0.07) -> list[IncomingMessage]:
    """`actionable`: the share of questions, suggestions and commands (the rest is chatter and
    images). The article's district saw 150 consultations and 80 suggestions in 1.2万 messages,
    about 2 %; the default 7 % is a busier day than that."""
    messages = []
    for i in range(n):
        room_id, room_name = rooms[i % len(rooms)]
        roll = rng.random() / actionable * 0.07
        kind, text = MessageKind.TEXT, rng.choice(CHATTER)
        if roll < 0.04:
            text = rng.choice(QUESTIONS)
        elif roll < 0.06:
            text = rng.choice(SUGGESTIONS)
        elif roll < 0.07:
            text = "/帮助"
        elif rng.random() < 0.03:
            kind, text = MessageKind.IMAGE, ""
        messages.append(IncomingMessage(
            id=f"b{i}", sender_id=f"wx_r{rng.randrange(400)}", sender_name="居民", text=f"{text}",
            at=SystemClock().now(), room_id=room_id, room_name=room_name, kind=kind))
    return messages


async def main(n: int, actionable: float = 0.07) -> None:
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        config = make_config(f"sqlite+aiosqlite:///{tmp}/bench.db")
        clock = SystemClock()
        transport = MemoryTransport(clock.now)
        app = App(config, transport, secret_key=test_key(), clock=clock)
        await app.start()
        app.outbox.pause()  # measure handling, not WeChat's pace
        rooms = [(g.room_id, g.name) for g in config.groups]
        messages = make_messages(n, rooms, random.Random(1), actionable)
        for warm in make_messages(200, rooms, random.Random(2)):
            await app.router.handle_event(IncomingMessage(**{**warm.__dict__, "id": "w" + warm.id}))
        start = time.perf_counter()
        for msg in messages:
            await app.router.handle_event(msg)
        await app.tally.flush()
        elapsed = time.perf_counter() - start
        stats = await app.outbox.stats()
        await app.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"messages: {n} ({actionable:.0%} actionable)  elapsed: {elapsed:.2f} s  throughput: {n / elapsed:,.0f} messages/s  "
          f"peak RSS: {rss_mb:.0f} MB  replies queued: {stats.pending}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--actionable", type=float, default=0.07, help="share of messages that need an answer")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.actionable))
