"""Messages per second the real wechaty SDK can take from the simulator, with a handler that
does nothing: the ceiling of the transport, before any bot logic.

    python bench/bench_sdk_bare.py [--messages 5000] [--senders 50]

Every message is injected at once (a burst); the clock runs from the first injection to the
moment the last on_message has run. Each message costs the SDK one MessagePayload RPC (plus a
ContactPayload the first time it sees a sender).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bot.wechaty_compat import free_tcp_port, make_options, prepare, stop_bot  # noqa: E402

prepare()
from wechaty import Wechaty  # noqa: E402

from bot.simulator import PuppetSimulator, SimWorld  # noqa: E402


class BareBot(Wechaty):
    def __init__(self, options, expected: int) -> None:  # noqa: ANN001
        super().__init__(options)
        self.logged_in = asyncio.Event()
        self.done = asyncio.Event()
        self.count = 0
        self.expected = expected

    async def on_login(self, contact) -> None:  # noqa: ANN001
        self.logged_in.set()

    async def on_message(self, msg) -> None:  # noqa: ANN001
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


def build_world(senders: int) -> SimWorld:
    world = SimWorld()
    ids = [f"wx_resident_{i}" for i in range(senders)]
    for i, contact_id in enumerate(ids):
        world.add_contact(contact_id, f"居民{i}")
    world.add_room("room_bench", "压测群", ids)
    return world


async def run(messages: int, senders: int, texts: list[str] | None = None, freeze_gc: bool = False) -> dict:
    """`texts`: what the residents say (bench_transport gives both sides the same); `freeze_gc`:
    take start-up objects out of the collector's sight once logged in, as the bot does."""
    import gc

    texts = texts or [f"消息 {i}" for i in range(messages)]
    world = build_world(senders)
    simulator = PuppetSimulator(world)
    await simulator.start()
    bot = BareBot(make_options(simulator.endpoint, simulator.token, free_tcp_port()), messages)
    task = asyncio.create_task(bot.start())
    try:
        await asyncio.wait_for(bot.logged_in.wait(), 10)
        if freeze_gc:
            gc.collect()
            gc.freeze()
        calls_before = dict(simulator.calls)
        started = time.perf_counter()
        for i in range(messages):
            world.inject_message(f"wx_resident_{i % senders}", texts[i], room_id="room_bench")
        await asyncio.wait_for(bot.done.wait(), 600)
        elapsed = time.perf_counter() - started
    finally:
        await stop_bot(bot, task)
        await simulator.stop()
        if freeze_gc:
            gc.unfreeze()
    rpc = {k: v - calls_before.get(k, 0) for k, v in simulator.calls.items() if v - calls_before.get(k, 0)}
    return {"messages": messages, "senders": senders, "seconds": round(elapsed, 3),
            "messages_per_second": round(messages / elapsed, 1), "rpc_calls": rpc}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(run(args.messages, args.senders)), ensure_ascii=False))


if __name__ == "__main__":
    main()
