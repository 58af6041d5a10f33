"""A district under load: many bots, each a process of its own against its own simulated WeChat, one
PostgreSQL database (issue #17, item 8). Run by hand, not in CI:

    python bench/bench_district_load.py [--bots 20] [--groups 189] [--messages 4000] [--actionable 0.07]
        [--tips 1] [--rate 0] [--pool-size N] [--max-overflow M]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Needs a PostgreSQL server, about 300 MB of memory (RSS) and a few
seconds of start-up per bot. It takes 3-5 minutes for 20 bots on 2 cores.

What runs: a fresh database on the `--postgres` server (its user needs CREATEDB; dropped after), a
district file with one community per bot (`c00` … `c19`), each with its own config; the `--groups`
groups are dealt out over the bots (mostly 居民群, some 楼栋群, 商户群, 学校群, one 工作群 each). The
district's 禁毒 unit is reached by bot `c00`: each bot's `--tips` residents report drugs privately
(the six-step tip dialog), and the tip is routed across processes to the unit's officer through
`c00`'s outbox. Every bot is a process as `jingmin run` starts it (transport `simulator`: the
simulated WeChat's gRPC puppet service in that process on loopback, the real wechaty SDK against
it, the App with every installed plugin); bot/instance.py holds one process per bot name.

The workload: `--messages` group messages in all, `--actionable` of them (7 %) a question to the
service guide from a resident who asks once (so each answer is told apart by its @-mention), the
rest chatter. `--rate 0` (default) injects each bot's share at once, when every bot is up; `--rate
R` spreads them at R messages/s over the district.

Outbox pacing is off (min_interval 0, no jitter, no hourly cap, no merging, no quiet hours): with
the shipped 2-3 s per account a reply waits behind the replies before it (see
bench/bench_reply_latency.py); here the wait is the bot's own work: gRPC, router, database, outbox.

It prints one JSON object:
- startup_seconds: until every bot process is up (all start at once);
- messages, seconds, messages_per_second: every injected message (groups and tip dialogs) over
  the time from the first bot's start of injection to the last bot's router finishing its share
  (at once: what the district can take; with --rate, about the rate asked for);
- reply_latency_ms p50/p99/max: for each question, from the simulator injecting it to the
  simulator receiving the bot's answer (@-mentioning the asker) over gRPC; unanswered: how many
  got none within --timeout. At once, a question waits behind its bot's whole share (the backlog);
  use --rate for the wait at a given load;
- db_connections: peak sessions on the bench database in pg_stat_activity (sampled every 50 ms)
  while the bots start and while they work, per bot, and the server's max_connections;
- duplicates: (target, text, mentions) the simulators received more than once, and bots or
  targets whose deliveries do not match the outbox rows marked sent for them (both must be 0);
- tips_routed: private messages the unit's officer got through c00 (one per tip at least);
- load_average of the machine at the end (the figures depend on what else runs).

Measured 2026-12-02, 20 bots, 2 cores shared with other work (load average 10-22), shipped pool
(pool_size 2, max_overflow 1): at once 103 messages/s; at --rate 40, reply p50 0.12 s, p99 1.0 s;
60 connections at the peak (3 a bot: each fills its pool; 2+2 gave 80 at 123 messages/s and 2+0 gave
40 at 136: the CPU bounds it, not the pool); no message twice, every outbox row sent, 20 tips routed.
The old fixed 5+5 would have taken 10 a bot: 200 for 20 bots, twice PostgreSQL's default 100.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import pg_database  # noqa: E402

CHATTER = ["大家早上好", "今天天气不错", "收到", "好的谢谢", "快递到了", "谢谢张警官", "👍",
           "有没有人捡到一串钥匙", "楼下的猫又来了", "周末有没有一起打球的", "电梯修好了吗"]
QUESTIONS = ["请问办理居住证需要带什么材料？", "身份证丢了怎么办", "警务室什么时候上班", "开无犯罪记录证明要什么材料"]
TIP_STEPS = ["我要举报", "毒品", "{n}号楼地下室晚上总有人聚着吸毒，卖货的电话13812345678", "最近一个月，晚上十点以后",
             "不用", "确认"]
UNIT_BOT, UNIT_OFFICER, UNIT_OFFICER_ID = "c00", "禁毒王警官", "wx_jd_wang"
KINDS = ["resident"] * 6 + ["building", "building", "merchant", "school"]


# ---- the district, written as files -------------------------------------------------------------

def bot_name(i: int) -> str:
    return f"c{i:02d}"


def write_district(tmp: Path, bots: int, groups: int, db_url: str, pool: dict) -> list[Path]:
    """A district file and one config per bot; groups dealt out round robin over the bots."""
    sample = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    communities, paths = [], []
    for i in range(bots):
        name = bot_name(i)
        community = f"第{i + 1}社区"
        rooms = [{"name": f"{community}{j + 1}号群", "id": f"room_{name}_{j}", "category": KINDS[j % len(KINDS)]}
                 for j in range(i, groups, bots)]
        rooms.append({"name": f"{community}警务工作群", "id": f"room_{name}_work", "category": "work"})
        contacts = [{"name": f"{community}张警官", "id": f"wx_officer_{name}", "role": "officer",
                     "rooms": [r["name"] for r in rooms]}]
        if name == UNIT_BOT:
            contacts.append({"name": UNIT_OFFICER, "id": UNIT_OFFICER_ID, "role": "officer", "rooms": []})
        raw = dict(sample)
        raw.update({
            "data_dir": str(tmp / name), "district": str(tmp / "district.yaml"),
            "bot": {**sample["bot"], "name": name, "community": community, "transport": "simulator"},
            "database": {"url": db_url, **pool},
            "wechat": {**sample["wechat"], "web_port": 0},
            "groups": rooms, "contacts": contacts,
            "outbox": {**sample["outbox"], "min_interval_seconds": 0, "jitter_seconds": 0,
                       "room_hourly_cap": 100000, "merge_window_seconds": 0},
            "quiet_hours": {"start": "00:00", "end": "00:00"},
            "pushes": {**sample["pushes"], "schedules": []},
        })
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        communities.append({"bot": name, "config": str(path)})
        paths.append(path)
    district = {"name": "压测分局", "communities": communities,
                "units": [{"name": "禁毒", "handles": ["毒品"], "bot": UNIT_BOT, "officers": [UNIT_OFFICER]}]}
    (tmp / "district.yaml").write_text(yaml.safe_dump(district, allow_unicode=True), encoding="utf-8")
    return paths


def plan(config, share: int, actionable: float, tips: int, seed: int) -> list[dict]:
    """One bot's messages: group chatter and questions (each asker asks once), then its tips."""
    rng = random.Random(seed)
    rooms = [g.room_id for g in config.groups if g.category != "work"]
    out = []
    for k in range(share):
        room = rng.choice(rooms)
        if rng.random() < actionable:
            out.append({"from": f"wx_asker_{config.bot.name}_{k}", "room": room, "question": True,
                        "text": f"{rng.choice(QUESTIONS)}"})
        else:
            out.append({"from": f"wx_res_{room}_{rng.randrange(40)}", "room": room, "question": False,
                        "text": f"{rng.choice(CHATTER)} {k}"})
    for t in range(tips):
        for step in TIP_STEPS:
            out.append({"from": f"wx_tipster_{config.bot.name}_{t}", "room": None, "question": False,
                        "text": step.format(n=t + 3)})
    return out


# ---- one bot: a process as `jingmin run` starts it ----------------------------------------------

async def bot_process(config_path: str, share: int, actionable: float, tips: int, rate: float,
                      timeout: float) -> None:
    from bot.wechaty_compat import prepare

    prepare()
    from bot.app import App
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.logs import setup_logging
    from bot.runner import freeze_startup_objects, make_transport, wire
    from bot.simulator import PuppetSimulator
    from bot.simulator.seed import world_from_config
    from bot.vault import test_key

    setup_logging("ERROR")
    config = load_config(config_path, env={})
    clock = SystemClock(config.bot.tz)
    world = world_from_config(config)
    simulator = PuppetSimulator(world)
    await simulator.start()
    transport = make_transport(config, clock, simulator.endpoint)
    app = App(config, transport, secret_key=test_key(), clock=clock)  # one key for the district
    wire(app, transport)
    await app.start()
    await app.connected()
    freeze_startup_objects()

    messages = plan(config, share, actionable, tips, seed=int(config.bot.name[1:]))
    for m in messages:
        if m["from"] not in world.contacts:
            world.add_contact(m["from"], m["from"].removeprefix("wx_"), friend=True)
    asked: dict[tuple[str, str], float] = {}
    latencies: list[float] = []

    def on_message(message) -> None:
        if message.from_id != world.bot.id or not message.room_id:
            return
        now = time.perf_counter()
        for asker in message.mention_ids:
            at = asked.pop((message.room_id, asker), None)
            if at is not None:
                latencies.append((now - at) * 1000)

    world.listeners.append(on_message)
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "go": every bot is up

    go_at = time.time()
    gap = 1 / rate if rate else 0.0
    started = time.perf_counter()
    for k, m in enumerate(messages):
        if gap:
            await asyncio.sleep(max(0.0, started + k * gap - time.perf_counter()))
        if m["question"]:
            asked[(m["room"], m["from"])] = time.perf_counter()
        world.inject_message(m["from"], m["text"], room_id=m["room"])
    await asyncio.sleep(0.05)
    while transport.inflight or app.router.inflight or len(world.feed):
        await asyncio.sleep(0.005)
    done_at = time.time()
    questions = sum(m["question"] for m in messages)
    deadline = time.perf_counter() + timeout
    while asked and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
    print(json.dumps({"done": True}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "stop": the district's outboxes are empty

    sent = collections.Counter((s.room_id or s.contact_id, s.text, s.mention_ids) for s in world.sent)
    per_target = collections.Counter(s.room_id or s.contact_id for s in world.sent)
    await app.stop()
    await simulator.stop()
    print(json.dumps({
        "bot": config.bot.name, "messages": len(messages), "go_at": go_at, "done_at": done_at,
        "questions": questions, "latencies_ms": latencies, "unanswered": len(asked),
        "duplicates": [[*k[:2], list(k[2]), n] for k, n in sent.items() if n > 1],
        "deliveries": dict(per_target),
        "to_unit_officer": per_target.get(UNIT_OFFICER_ID, 0),
    }, ensure_ascii=False), flush=True)


# ---- the district: start the bots, watch the database, gather the figures ----------------------

async def sample_connections(admin_url, database: str, peaks: dict, phase: list[str], stop: asyncio.Event) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=admin_url.host, port=admin_url.port or 5432, user=admin_url.username,
                                 password=admin_url.password, database="postgres")
    try:
        while not stop.is_set():
            count = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database)
            peaks[phase[0]] = max(peaks.get(phase[0], 0), count)
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def read_line(proc, what: str, timeout: float) -> str:
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        raise RuntimeError(f"a bot process ended before {what} (see its log)")
    return line.decode().strip()


async def district(args) -> dict:
    import asyncpg
    from sqlalchemy.engine import make_url

    from storage import db

    admin_url = make_url(args.postgres)
    pool = {k: v for k, v in (("pool_size", args.pool_size), ("max_overflow", args.max_overflow)) if v is not None}
    async with pg_database(args.postgres) as url:
        database = make_url(url).database
        engine = db.create_engine(url)
        await db.upgrade(engine)  # once, before the bots: each would otherwise race to create the schema
        await engine.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_district(Path(tmp), args.bots, args.groups, url, pool)
            shares = [args.messages // args.bots + (1 if i < args.messages % args.bots else 0)
                      for i in range(args.bots)]
            peaks: dict[str, int] = {}
            phase = ["start"]
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_connections(admin_url, database, peaks, phase, stop))
            procs, logs = [], []
            started = time.perf_counter()
            for path, share in zip(paths, shares):
                log = open(Path(tmp) / f"{path.stem}.log", "w")
                logs.append(log)
                procs.append(await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--bot", str(path), "--share", str(share),
                    "--actionable", str(args.actionable), "--tips", str(args.tips),
                    "--rate", str(args.rate / args.bots if args.rate else 0), "--timeout", str(args.timeout),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log, cwd=str(ROOT)))
            try:
                for proc in procs:
                    assert await read_line(proc, "start", 600) == "ready"
                startup = time.perf_counter() - started
                phase[0] = "load"
                for proc in procs:
                    proc.stdin.write(b"go\n")
                await asyncio.gather(*(proc.stdin.drain() for proc in procs))
                for proc in procs:
                    await read_line(proc, "the end of its work", 600 + args.timeout)
                # Tips wrote rows into c00's outbox from other processes: let it send them.
                phase[0] = "drain"  # the bench's own connection below is not a bot's
                check = await asyncpg.connect(host=admin_url.host, port=admin_url.port or 5432,
                                              user=admin_url.username, password=admin_url.password, database=database)
                try:
                    for _ in range(int(args.timeout / 0.25)):
                        left = await check.fetchval(
                            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
                        if not left:
                            break
                        await asyncio.sleep(0.25)
                    phase[0] = "stop"
                    for proc in procs:
                        proc.stdin.write(b"stop\n")
                    results = [json.loads(await read_line(proc, "its figures", 120)) for proc in procs]
                    sent_rows = {(r["bot"], r["target"]): r["n"] for r in await check.fetch(
                        "SELECT bot, coalesce(room_id, contact_id) AS target, count(*) AS n FROM outbox "
                        "WHERE status = 'sent' GROUP BY 1, 2")}
                    not_sent = await check.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'")
                    max_connections = int(await check.fetchval("SHOW max_connections"))
                finally:
                    await check.close()
                await asyncio.gather(*(proc.wait() for proc in procs))
            except BaseException:
                for proc in procs:
                    if proc.returncode is None:
                        proc.kill()
                for log in logs:
                    log.flush()
                for path in paths[:3]:
                    tail = (Path(tmp) / f"{path.stem}.log").read_text()[-3000:]
                    if tail:
                        print(f"--- {path.stem}.log ---\n{tail}", file=sys.stderr)
                raise
            finally:
                stop.set()
                await sampler
                for log in logs:
                    log.close()
    total = sum(r["messages"] for r in results)
    seconds = max(r["done_at"] for r in results) - min(r["go_at"] for r in results)
    latencies = [v for r in results for v in r["latencies_ms"]]
    # A sent confidential row (a tip's) forgets its contact (bot/outbox.py): such rows count for
    # any private target of their bot. Per bot, deliveries and sent rows must match exactly.
    over = []
    for r in results:
        bot = r["bot"]
        blank = sent_rows.get((bot, None), 0)
        rows = sum(n for (b, _), n in sent_rows.items() if b == bot)
        if sum(r["deliveries"].values()) != rows:
            over.append([bot, "all targets", sum(r["deliveries"].values()), rows])
        over += [[bot, target, n, sent_rows.get((bot, target), 0)] for target, n in r["deliveries"].items()
                 if n > sent_rows.get((bot, target), 0) + (0 if target.startswith("room_") else blank)]
    return {
        "bots": args.bots, "groups": args.groups, "actionable": args.actionable, "rate": args.rate or "all at once",
        "startup_seconds": round(startup, 1),
        "messages": total, "seconds": round(seconds, 2), "messages_per_second": round(total / seconds, 1),
        "questions": sum(r["questions"] for r in results),
        "reply_latency_ms": {"p50": round(percentile(latencies, 50)), "p99": round(percentile(latencies, 99)),
                             "max": round(max(latencies)) if latencies else None},
        "unanswered": sum(r["unanswered"] for r in results),
        "db_connections": {"peak_start": peaks.get("start", 0), "peak_load": peaks.get("load", 0),
                           "peak_per_bot": round(max(peaks.get("start", 0), peaks.get("load", 0)) / args.bots, 2),
                           "pool": pool or "default", "max_connections": max_connections},
        "duplicates": {"same_message_twice": sum(len(r["duplicates"]) for r in results),
                       "deliveries_not_matching_sent_rows": len(over),
                       "examples": ([d for r in results for d in r["duplicates"]] + over)[:5]},
        "outbox_rows_not_sent": not_sent,
        "tips_routed": {"tips": args.tips * args.bots,
                        "messages_to_unit_officer": sum(r["to_unit_officer"] for r in results)},
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--groups", type=int, default=189, help="groups in all, dealt out over the bots")
    parser.add_argument("--messages", type=int, default=4000, help="group messages in all")
    parser.add_argument("--actionable", type=float, default=0.07, help="share of questions to the guide")
    parser.add_argument("--tips", type=int, default=1, help="tips to the district's 禁毒 unit per bot")
    parser.add_argument("--rate", type=float, default=0, help="messages/s over the district (0: all at once)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the last answers")
    parser.add_argument("--pool-size", type=int, help="database.pool_size of every bot (default: the shipped)")
    parser.add_argument("--max-overflow", type=int, help="database.max_overflow of every bot")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
                        help="the server (a fresh database is made on it and dropped after)")
    parser.add_argument("--bot", help=argparse.SUPPRESS)  # internal: run one bot process
    parser.add_argument("--share", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        asyncio.run(bot_process(args.bot, args.share, args.actionable, args.tips, args.rate, args.timeout))
        return
    print(json.dumps(asyncio.run(district(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
