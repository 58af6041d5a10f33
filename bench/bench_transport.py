"""Messages/s through the real SDK and the simulator, one process, the same 5,000 mixed messages:
(a) a bare SDK listener that does nothing, (b) our bot (WechatyTransport + App, all handlers),
(c) our transport alone, handing each message to a sink that does nothing.

    python bench/bench_transport.py [--messages 5000] [--senders 50] [--actionable 0.02] [--rounds 3]

All messages are injected at once into one group (the hardest case: one chat is handled in
order, so nothing overlaps its database work). (b) counts a message done when the router has
finished it (replies are queued in the outbox and paced; sending them is not part of the
figure). Both sides get the same texts (the same mix, in the same order) and the same GC
treatment (start-up objects frozen once connected, as `jingmin run` does), and the RPCs each side
made while the messages came in are printed: what the bot costs beyond the SDK is then its own
work, not a different load. Database: a temporary SQLite file. Each round runs (a), (b), (c);
the median of the rounds is the figure, ratios are taken within each round. Target: b/a >= 0.95.

A burst is where the bare listener loses most: it starts every message's MessagePayload RPC at
once, and past the connection's ~100 streams grpclib wakes every waiting RPC each time one ends.
Our transport loads at most CONVERT_AT_ONCE events at a time, so (c) is well above (a) and b/a
says little about what our handlers cost. b/c does: the bot against the same transport with
nothing behind it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bot.wechaty_compat import prepare, reset_sdk_caches  # noqa: E402

prepare()

from bench.bench_sdk_bare import build_world, run as run_bare  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runner import freeze_startup_objects  # noqa: E402
from bot.simulator import PuppetSimulator  # noqa: E402
from bot.simulator.seed import world_from_config  # noqa: E402
from bot.vault import test_key  # noqa: E402
from bot.wechaty_transport import WechatyTransport  # noqa: E402

CHATTER = ["大家早上好", "今天天气不错", "收到", "好的谢谢", "快递放哪里了", "谢谢张警官", "明天几点开会", "👍",
           "有没有人捡到一串钥匙"]
# Messages the handlers take up: a question the guide answers and /帮助 (both answered), and a
# complaint and a suggestion said in passing (weighed; said in a group without @, left to people).
ACTIONABLE = ["请问办理居住证需要带什么材料？", "楼下有人乱停车", "小区门口的路灯坏了", "/帮助"]
# The article's district: about 150 consultations and 80 suggestions in 1.2万 group messages,
# some 2 % that need the bot to act. `--actionable 0.3` is the stress mix (one in three).
DEFAULT_ACTIONABLE = 0.02


def mixed(i: int, rng: random.Random, actionable: float = DEFAULT_ACTIONABLE) -> str:
    pool = ACTIONABLE if rng.random() < actionable else CHATTER
    return f"{rng.choice(pool)} {i}"


async def burst(world, messages: int, senders: int, texts: list[str], busy) -> float:  # noqa: ANN001
    """Inject every message into the bench group at once; seconds until `busy()` is false."""
    started = time.perf_counter()
    for i in range(messages):
        world.inject_message(f"wx_resident_{i % senders}", texts[i], room_id="room_bench")
    await asyncio.sleep(0.05)
    while busy():
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def run_bot(messages: int, senders: int, tmp: str, texts: list[str]) -> dict:
    import yaml

    raw = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "config.yaml"), encoding="utf-8"))
    raw["database"] = {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"}
    raw["groups"] = [{"name": "压测群", "id": "room_bench", "category": "resident"}]
    raw["contacts"] = [{"name": "张警官", "id": "wx_zhang", "role": "officer", "rooms": ["压测群"]}] + [
        {"name": f"居民{i}", "id": f"wx_resident_{i}", "rooms": ["压测群"]} for i in range(senders)]
    config = parse_config(raw, env={})
    world = world_from_config(config)
    simulator = PuppetSimulator(world)
    await simulator.start()
    transport = WechatyTransport(simulator.endpoint, simulator.token)
    app = App(config, transport, secret_key=test_key(), clock=SystemClock())
    await app.start()
    freeze_startup_objects()  # as `jingmin run` does once the bot is up
    calls_before = dict(simulator.calls)
    try:
        elapsed = await burst(world, messages, senders, texts,
                              lambda: transport.inflight or app.router.inflight or len(world.feed))
    finally:
        await app.stop()
        await simulator.stop()
        gc.unfreeze()  # the next round's bare listener starts as the first one did
    rpc = {k: v - calls_before.get(k, 0) for k, v in simulator.calls.items() if v - calls_before.get(k, 0)}
    return {"messages": messages, "seconds": round(elapsed, 3), "messages_per_second": round(messages / elapsed, 1),
            "rpc_calls": rpc}


async def run_transport(messages: int, senders: int, texts: list[str]) -> dict:
    """(c): the transport with a sink that does nothing, same world, same GC treatment."""
    world = build_world(senders)
    simulator = PuppetSimulator(world)
    await simulator.start()
    transport = WechatyTransport(simulator.endpoint, simulator.token)

    async def nothing(event) -> None:  # noqa: ANN001
        return None

    await transport.start(nothing)
    freeze_startup_objects()
    try:
        elapsed = await burst(world, messages, senders, texts, lambda: transport.inflight or len(world.feed))
    finally:
        await transport.stop()
        await simulator.stop()
        gc.unfreeze()
    return {"messages": messages, "seconds": round(elapsed, 3), "messages_per_second": round(messages / elapsed, 1)}


async def main_async(messages: int, senders: int, actionable: float = DEFAULT_ACTIONABLE, rounds: int = 3) -> dict:
    """(a), (b), (c), `rounds` times: one run swings by ±10 % on a shared machine, the median less."""
    rng = random.Random(1)
    texts = [mixed(i, rng, actionable) for i in range(messages)]
    runs = []
    for _ in range(rounds):
        reset_sdk_caches()
        bare = await run_bare(messages, senders, texts, freeze_gc=True)
        reset_sdk_caches()
        with tempfile.TemporaryDirectory() as tmp:
            ours = await run_bot(messages, senders, tmp, texts)
        reset_sdk_caches()
        alone = await run_transport(messages, senders, texts)
        runs.append({"bare_sdk": bare["messages_per_second"], "our_bot": ours["messages_per_second"],
                     "transport_alone": alone["messages_per_second"],
                     "b_over_a": round(ours["messages_per_second"] / bare["messages_per_second"], 3),
                     "b_over_c": round(ours["messages_per_second"] / alone["messages_per_second"], 3),
                     "rpc_bare": bare["rpc_calls"], "rpc_bot": ours["rpc_calls"]})
    keys = ("bare_sdk", "our_bot", "transport_alone", "b_over_a", "b_over_c")
    return {"messages": messages, "actionable": actionable, "runs": runs,
            "median": {k: statistics.median(r[k] for r in runs) for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--actionable", type=float, default=DEFAULT_ACTIONABLE,
                        help="share of messages the bot acts on (default: the article's district; 0.3 stresses)")
    parser.add_argument("--rounds", type=int, default=5, help="(a), (b), (c) this many times; the median is the figure")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(json.dumps(asyncio.run(main_async(args.messages, args.senders, args.actionable, args.rounds)),
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
