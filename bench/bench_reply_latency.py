"""How long a resident waits for an answer when the outbox is busy, on the simulated clock.

    python bench/bench_reply_latency.py [--groups 189] [--questions 20] [--burst 50] [--rounds 5]

(1) During a push to every group (`/公告 … 全部`, 189 groups: about 8 minutes of paced sending),
residents in random groups ask the guide a question at random moments; the wait is from the
question to the answer reaching WeChat. Run as shipped (replies ahead of bulk pushes) and, in the
same round, with every row at one priority (as before), for the ratio. Target: p99 <= 5 s.
(2) A burst: `--burst` residents ask in one group, one a second (the same few questions); the wait
of each asker, and how many messages the group got.

Simulated time: no sleeping, the figures do not depend on the machine's load; each round uses
another seed for the jitter and the moments of the questions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import outbox  # noqa: E402
from bot.clock import SHANGHAI, FakeClock  # noqa: E402
from bot.harness import Harness  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from tests.conftest import make_config  # noqa: E402

QUESTIONS = ["请问办理居住证需要带什么材料？", "身份证丢了怎么办", "警务室什么时候上班", "开无犯罪记录证明要什么材料"]
START = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)


def town(db_url: str, groups: int):
    rooms = [{"name": f"居民{i}群", "category": "resident"} for i in range(1, groups + 1)]
    rooms.append({"name": "警务工作群", "category": "work"})
    contacts = [{"name": "张警官", "id": "wx_zhang", "role": "officer", "rooms": [r["name"] for r in rooms]}]
    return make_config(db_url, groups=rooms, contacts=contacts, pushes={"schedules": []})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def answered_at(bot: Harness, room_id: str, asker: str, after: datetime) -> datetime | None:
    for record in bot.sent:
        if record.at >= after and asker in record.out.mention_ids and record.out.room_id == room_id:
            return record.at
        if record.at >= after and record.out.room_id is None and record.out.contact_id == asker:
            return record.at
    return None


async def during_push(groups: int, questions: int, seed: int, one_priority: bool) -> list[float]:
    saved = dict(outbox.SOURCE_PRIORITY)
    if one_priority:
        outbox.SOURCE_PRIORITY["push"] = outbox.REPLY
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bot = Harness(town(f"sqlite+aiosqlite:///{tmp}/l.db", groups), clock=FakeClock(START), seed=seed)
            await bot.start()
            rng = random.Random(seed)
            await bot.say("张警官", "/公告 今天下午2点到5点停水，请提前储水。 全部", room="警务工作群", settle=False)
            push_span = groups * (2 + 0.5)  # seconds, at the configured pace
            moments = sorted(rng.uniform(5, push_span * 0.9) for _ in range(questions))
            asked = []
            for i, moment in enumerate(moments):
                await bot.run_until(START + timedelta(seconds=moment))
                room = f"居民{rng.randint(1, groups)}群"
                asker = f"居民甲{i}"
                asked.append((bot.room_id(room), bot.contact_id(asker), bot.clock.now()))
                await bot.say(asker, rng.choice(QUESTIONS), room=room, settle=False)
            await bot.advance(timedelta(seconds=push_span * 1.5))
            waits = []
            for room_id, asker, at in asked:
                when = await answered_at(bot, room_id, asker, at)
                waits.append((when - at).total_seconds() if when else float("inf"))
            await bot.stop()
            return waits
    finally:
        outbox.SOURCE_PRIORITY.clear()
        outbox.SOURCE_PRIORITY.update(saved)


async def burst(askers: int, seed: int) -> tuple[list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        bot = Harness(town(f"sqlite+aiosqlite:///{tmp}/b.db", 4), clock=FakeClock(START), seed=seed)
        await bot.start()
        rng = random.Random(seed)
        room_id = bot.room_id("居民1群")
        asked = []
        for i in range(askers):
            asker = f"居民乙{i}"
            asked.append((bot.contact_id(asker), bot.clock.now()))
            await bot.say(asker, rng.choice(QUESTIONS), room="居民1群", settle=False)
            await bot.advance(timedelta(seconds=1))
        await bot.advance(timedelta(hours=2))
        waits = []
        for asker, at in asked:
            when = await answered_at(bot, room_id, asker, at)
            waits.append((when - at).total_seconds() if when else float("inf"))
        to_group = len([r for r in bot.sent if r.out.room_id == room_id])
        await bot.stop()
        return waits, to_group


def line(name: str, rounds: list[list[float]]) -> str:
    p50 = [percentile(r, 50) for r in rounds]
    p99 = [percentile(r, 99) for r in rounds]
    return (f"  {name}: p50 median {statistics.median(p50):.1f} s, p99 median {statistics.median(p99):.1f} s "
            f"(rounds p50 {', '.join(f'{v:.1f}' for v in p50)}; p99 {', '.join(f'{v:.1f}' for v in p99)})")


async def main(groups: int, questions: int, askers: int, rounds: int) -> None:
    setup_logging("ERROR")
    ours, flat, bursts, sent = [], [], [], []
    for seed in range(rounds):
        ours.append(await during_push(groups, questions, seed, one_priority=False))
        flat.append(await during_push(groups, questions, seed, one_priority=True))
        waits, to_group = await burst(askers, seed)
        bursts.append(waits)
        sent.append(to_group)
    print(f"reply latency during a push to {groups} groups, {questions} questions a round, {rounds} rounds (simulated clock):")
    print(line("replies ahead of pushes (shipped)", ours))
    print(line("one priority for all (before)    ", flat))
    print(f"burst of {askers} questions in one group, one a second, {rounds} rounds:")
    print(line("wait of each asker", bursts))
    print(f"  messages to the group: {', '.join(map(str, sent))} (for {askers} askers)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=189)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.groups, args.questions, args.burst, args.rounds))
