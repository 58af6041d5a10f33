"""Core pipeline throughput: mixed group messages through the router on the in-memory transport.

    .venv/bin/python bench/bench_pipeline.py [--messages 20000] [--actionable 0.07] [--rounds 5]
        [--groups 4] [--compare-groups 1000] [--postgres postgresql+asyncpg://…/db [--no-wait-commit]]
        [--baseline OTHER_CHECKOUT] [--per-chat]

Every text is unique (a number at its end, as people's messages differ), so the router's 10 s
redelivery check drops nothing: with repeated texts it dropped 30 % of the messages and inflated
the figure. Each round runs every variant once, in the same order; the figure is the median of
the rounds and each ratio is taken within a round (the machine is shared: absolute figures swing,
ratios much less). Targets: >= 3,000 msg/s at 7 % actionable and >= 5,000 at 2 % on SQLite;
1000 groups >= 0.85x of 4 groups; PostgreSQL >= 0.9x of SQLite. The bot's peak RSS < 250 MB.

SQLite commits without waiting for the disk (WAL, synchronous NORMAL); PostgreSQL, as shipped,
waits for it (about 0.2 ms on this machine's disk) at every commit but those of routine rows only
(storage/later.py: counts, message ids, answered questions). --no-wait-commit adds a run with
database.synchronous_commit: false, where no commit waits, as on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

# BENCH_CODE: run another checkout's bot (the --baseline variant), with this file's workload.
sys.path.insert(0, os.environ.get("BENCH_CODE") or str(Path(__file__).resolve().parent.parent))

from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.logs import setup_logging  # noqa: E402
from bot.messages import IncomingMessage, MessageKind  # noqa: E402
from bot.transport import MemoryTransport  # noqa: E402
from bot.vault import test_key  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runner import freeze_startup_objects  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

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
            id=f"b{i}", sender_id=f"wx_r{rng.randrange(400)}", sender_name="居民",
            text=text if kind != MessageKind.TEXT or text.startswith("/") else f"{text} {i}",
            at=SystemClock().now(), room_id=room_id, room_name=room_name, kind=kind))
    return messages


def make_config(db_url: str, data_dir: str, database: dict | None = None, **sections):
    """The sample community of config.yaml on `db_url` (as tests.conftest.make_config, without
    importing pytest into the process whose memory is measured)."""
    import yaml

    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw.update(database={"url": db_url, **(database or {})}, data_dir=data_dir, **sections)
    return parse_config(raw, env={})


def groups_config(count: int) -> list[dict]:
    """`count` resident groups, alike: so that 4 and 1000 groups get the same mix of work."""
    return [{"name": f"居民{i}群", "category": "resident"} for i in range(count)]


async def _per_chat(handle, messages: list[IncomingMessage]) -> None:
    """As bot.wechaty_transport hands on a burst: one queue per chat, each drained in order by a
    task of its own, so that different chats' messages overlap where they wait for the database."""
    queues: dict[str, list[IncomingMessage]] = {}
    for msg in messages:
        queues.setdefault(msg.chat_key, []).append(msg)

    async def drain(queue: list[IncomingMessage]) -> None:
        for msg in queue:
            await handle(msg)

    await asyncio.gather(*(drain(q) for q in queues.values()))


async def run_once(n: int, actionable: float, groups: int, db_url: str, data_dir: str, per_chat: bool = False,
                   database: dict | None = None) -> dict:
    officer = {"name": "张警官", "id": "wx_zhang", "role": "officer"}
    config = make_config(db_url, data_dir, database, groups=groups_config(groups), contacts=[officer])
    clock = SystemClock()
    transport = MemoryTransport(clock.now)
    app = App(config, transport, secret_key=test_key(), clock=clock)
    await app.start()
    app.outbox.pause()  # measure handling, not WeChat's pace
    # A first start trains the community's own guide entries in the background (a child process):
    # measure the bot as it runs, not its first seconds beside that training.
    for task in [t for t in asyncio.all_tasks() if t.get_name() == "guide-training"]:
        await task
    freeze_startup_objects()  # as bot.runner does once the bot is up
    rooms = [(g.room_id, g.name) for g in config.groups]
    messages = make_messages(n, rooms, random.Random(1), actionable)
    for warm in make_messages(200, rooms, random.Random(2)):
        await app.router.handle_event(IncomingMessage(**{**warm.__dict__, "id": "w" + warm.id, "text": "w" + warm.text}))
    await app.tally.flush()
    start = time.perf_counter()
    if per_chat:
        await _per_chat(app.router.handle_event, messages)
    else:
        for msg in messages:
            await app.router.handle_event(msg)
    await app.tally.flush()
    elapsed = time.perf_counter() - start
    stats = await app.outbox.stats()
    await app.stop()
    # The bot's own peak (a child such as the guide's training is not the bot's memory).
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"per_second": n / elapsed, "queued": stats.pending, "rss_mb": rss_mb}


@asynccontextmanager
async def pg_database(url: str):
    """A fresh database on the server of `url` for one run, dropped after."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"jingmin_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                     password=parsed.password, database="postgres")
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_run(n: int, actionable: float, groups: int, db: str, postgres: str | None, code: str | None = None,
            per_chat: bool = False) -> dict:
    args = [sys.executable, __file__, "--single", db, "--messages", str(n), "--actionable", str(actionable),
            "--groups", str(groups)] + (["--postgres", postgres] if postgres else []) + (["--per-chat"] if per_chat else [])
    env = {**os.environ, "BENCH_CODE": code} if code else None
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


async def single(n: int, actionable: float, groups: int, db: str, postgres: str | None, per_chat: bool) -> None:
    setup_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:  # the run's data_dir, and its SQLite file
        if db == "sqlite":
            out = await run_once(n, actionable, groups, f"sqlite+aiosqlite:///{tmp}/bench.db", tmp, per_chat)
        else:
            async with pg_database(postgres) as url:
                # postgresql-nowait: commits that do not wait for the server's disk, as SQLite's
                out = await run_once(n, actionable, groups, url, tmp, per_chat,
                                     {"synchronous_commit": False} if db == "postgresql-nowait" else None)
    print(json.dumps(out))


async def main(n: int, actionable: float, rounds: int, groups: int, compare_groups: int | None,
               postgres: str | None, baseline: str | None = None, per_chat: bool = False, no_wait: bool = False) -> None:
    setup_logging("WARNING")
    variants = [("sqlite", groups)]
    if baseline:
        variants.append(("baseline", groups))
    if compare_groups:
        variants.append(("sqlite", compare_groups))
    if postgres:
        variants.append(("postgresql", groups))
        if no_wait:
            variants.append(("postgresql-nowait", groups))
        if baseline:
            variants.append(("baseline-postgresql", groups))
    results: dict[tuple[str, int], list[float]] = {v: [] for v in variants}
    memory: dict[tuple[str, int], list[float]] = {v: [] for v in variants}
    ratios: dict[str, list[float]] = {}
    for _ in range(rounds):
        this_round = {}
        for db, count in variants:
            # Each run in a fresh process: a second App in one process would pay for the first
            # one's garbage, and whichever ran later would look slower.
            out = one_run(n, actionable, count, db.removeprefix("baseline-") if db != "baseline" else "sqlite",
                          postgres, baseline if db.startswith("baseline") else None, per_chat)
            this_round[(db, count)] = out["per_second"]
            results[(db, count)].append(out["per_second"])
            memory[(db, count)].append(out.get("rss_mb", 0.0))
        base = this_round[("sqlite", groups)]
        for (db, count), value in this_round.items():
            if (db, count) != ("sqlite", groups):
                ratios.setdefault(f"{db} {count} groups / sqlite {groups} groups", []).append(value / base)
        if ("baseline-postgresql", groups) in this_round:  # the baseline's own PostgreSQL ÷ SQLite
            ratios.setdefault("baseline-postgresql / baseline", []).append(
                this_round[("baseline-postgresql", groups)] / this_round[("baseline", groups)])
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"messages: {n} per run ({actionable:.0%} actionable, unique texts, "
          f"{'each chat in its own task, as the transport hands them on' if per_chat else 'one at a time'}), {rounds} rounds, "
          f"peak RSS of a run {rss_mb:.0f} MB")
    for (db, count), values in results.items():
        print(f"  {db:10} {count:5} groups: median {statistics.median(values):7,.0f} msg/s  "
              f"(rounds: {', '.join(f'{v:,.0f}' for v in values)}), bot's peak RSS {max(memory[(db, count)]):.0f} MB")
    for name, values in ratios.items():
        print(f"  {name}: median {statistics.median(values):.2f}  (rounds: {', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--actionable", type=float, default=0.07, help="share of messages that need an answer")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--groups", type=int, default=4, help="resident groups, all alike")
    parser.add_argument("--compare-groups", type=int, help="also run with this many groups (ratio to --groups)")
    parser.add_argument("--postgres", help="also run on this PostgreSQL server (a fresh database each run)")
    parser.add_argument("--baseline", help="also run the bot of this checkout (e.g. the main branch) on SQLite, "
                                           "and on PostgreSQL with --postgres")
    parser.add_argument("--per-chat", action="store_true",
                        help="hand the messages on as the transport does: one task per chat (default: one at a time)")
    parser.add_argument("--no-wait-commit", action="store_true",
                        help="with --postgres, also run with database.synchronous_commit: false")
    parser.add_argument("--single", choices=["sqlite", "postgresql", "postgresql-nowait"], help=argparse.SUPPRESS)  # one run, JSON out
    args = parser.parse_args()
    if args.single:
        asyncio.run(single(args.messages, args.actionable, args.groups, args.single, args.postgres, args.per_chat))
        sys.exit(0)
    asyncio.run(main(args.messages, args.actionable, args.rounds, args.groups, args.compare_groups, args.postgres,
                     args.baseline, args.per_chat, args.no_wait_commit))
