"""Soak: the bot killed with SIGKILL again and again while it pushes and residents talk.

Real processes on loopback, as in production: `jingmin simulator` and `jingmin run` (SQLite, or
PostgreSQL with --db). Each round an officer pushes an announcement to 12 resident groups,
residents send messages, and the bot is killed with SIGKILL at a random moment of the push,
then started again. At the end every announcement is counted at the simulator per group:
exactly once, or its outbox row marked `uncertain` (never resent); anything else is a failure.
The bot's resident set size is sampled from /proc every half second.

    python bench/bench_soak.py                      # 200 kills, 50,000 messages (long: ~1 h)
    python bench/bench_soak.py --kills 5 --messages 2000    # a short one
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_faults_processes import GROUPS, OFFICER, WORK, Processes, _deliveries, _uncertain_rooms  # noqa: E402

RESIDENTS = ["王阿姨", "陈大爷", "小周", "李奶奶", "赵叔"]
CHATTER = ["大家早上好", "今天小区门口有卖菜的吗", "电梯又坏了", "谢谢民警同志", "几点停水啊", "收到"]


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    def __init__(self, procs: Processes) -> None:
        super().__init__(daemon=True)
        self.procs, self.samples, self.stopped = procs, [], threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            bot = self.procs.bot
            if bot is not None and bot.poll() is None and (kb := rss_kb(bot.pid)):
                self.samples.append((time.monotonic(), bot.pid, kb))


def talk(procs: Processes, n: int, rng: random.Random) -> int:
    sent = 0
    for _ in range(n):
        room = f"居民{rng.randint(1, GROUPS)}群"
        try:
            procs.say(rng.choice(RESIDENTS), f"{rng.choice(CHATTER)} {rng.randint(1, 10**6)}", room)
            sent += 1
        except OSError:
            pass
    return sent


async def soak(kills: int, messages: int, db_url: str | None, seed: int) -> int:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="jingmin-soak-"))
    procs = Processes(tmp, db_url or f"sqlite+aiosqlite:///{tmp / 'jingmin.db'}")
    sampler = RssSampler(procs)
    markers: list[str] = []
    talked = 0
    started = time.monotonic()
    try:
        procs.start_simulator()
        procs.start_bot()
        sampler.start()
        per_round = messages // max(kills, 1)
        for round_no in range(kills):
            marker = f"【通知{round_no:04d}】"
            markers.append(marker)
            procs.say(OFFICER, f"/公告 {marker}本周六上午物业检修消防设施，请配合。 居民群", WORK)
            talked += talk(procs, per_round // 2, rng)
            # Kill somewhere in the push: after 0 to GROUPS-1 deliveries of this round.
            target = rng.randint(0, GROUPS - 1)
            deadline = time.monotonic() + 30
            while len(_deliveries(procs.sent(), marker)) < target and time.monotonic() < deadline:
                time.sleep(0.05)
            procs.kill(procs.bot)
            procs.start_bot()
            talked += talk(procs, per_round - per_round // 2, rng)
            print(f"round {round_no + 1}/{kills}: killed after {target} deliveries", flush=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not await finished(procs, markers):  # let the pushes end
            time.sleep(0.5)
        time.sleep(3)
        return await report(procs, markers, talked, sampler, time.monotonic() - started)
    finally:
        sampler.stopped.set()
        procs.stop()


async def counted_messages(db_url: str) -> int:
    from sqlalchemy import func, select

    from storage import db
    from storage.models import Counter as CounterRow

    engine = db.create_engine(db_url)
    try:
        async with db.session_factory(engine)() as s:
            return (await s.execute(select(func.coalesce(func.sum(CounterRow.value), 0)).where(
                CounterRow.metric == "messages", CounterRow.hour == -1))).scalar_one()
    finally:
        await engine.dispose()


async def queued(db_url: str, marker: str) -> int:
    from sqlalchemy import func, select

    from storage import db
    from storage.models import OutboxMessage

    engine = db.create_engine(db_url)
    try:
        async with db.session_factory(engine)() as s:
            return (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.body.contains(marker)))).scalar_one()
    finally:
        await engine.dispose()


async def finished(procs: Processes, markers: list[str]) -> bool:
    sent = procs.sent()
    for marker in markers:
        done = set(_deliveries(sent, marker)) | await _uncertain_rooms(procs.db_url, marker)
        if len(done) < GROUPS and (done or await queued(procs.db_url, marker)):
            return False
    return True


async def report(procs: Processes, markers: list[str], talked: int, sampler: RssSampler, elapsed: float) -> int:
    sent = procs.sent()
    rooms = {f"room:居民{i}群" for i in range(1, GROUPS + 1)}
    doubled = lost = uncertain_n = never = 0
    for marker in markers:
        counts: Counter = _deliveries(sent, marker)
        if not counts and not await queued(procs.db_url, marker):
            never += 1  # killed before the command committed: no push and no confirmation either
            continue
        uncertain = await _uncertain_rooms(procs.db_url, marker)
        doubled += sum(1 for n in counts.values() if n > 1)
        lost += len(rooms - set(counts) - uncertain)
        uncertain_n += len(uncertain - set(counts))
    counted = await counted_messages(procs.db_url)
    pairs = len(markers) * GROUPS
    rss = [kb for _, _, kb in sampler.samples]
    by_pid: dict[int, list[int]] = {}
    for _, pid, kb in sampler.samples:
        by_pid.setdefault(pid, []).append(kb)
    last = by_pid[max(by_pid, key=lambda p: len(by_pid[p]))] if by_pid else []
    print(f"\n{len(markers)} kills, {len(markers)} announcements x {GROUPS} groups = {pairs} pairs, "
          f"{talked} resident messages ({counted} counted by the bot: the rest arrived while it was down), "
          f"{elapsed:.0f} s")
    print(f"sent twice: {doubled}; lost without a mark: {lost}; uncertain (not delivered, marked): {uncertain_n}; "
          f"commands killed before they committed (never confirmed, nothing queued): {never}")
    if rss:
        print(f"bot RSS: median {statistics.median(rss) / 1024:.0f} MiB, max {max(rss) / 1024:.0f} MiB "
              f"({len(rss)} samples); longest-lived process {last[0] / 1024:.0f} -> {last[-1] / 1024:.0f} MiB")
    return 1 if doubled or lost else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return asyncio.run(soak(args.kills, args.messages, args.db, args.seed))


if __name__ == "__main__":
    raise SystemExit(main())
