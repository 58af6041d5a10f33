"""Start-up time with many groups: a fresh process, from its first import to the bot taking
messages (App.start on the in-memory transport, SQLite file), first on an empty database
(migrations, seeding every group) and then again on the same one (a restart).

    python bench/bench_startup.py [--groups 189] [--rounds 5]

Each start runs in its own process, so imports count as they do for `jingmin run`. The project's
modules are byte-compiled first, as `make run` does (where Python may not write bytecode, as
here, each start would compile them again). Target: < 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import time, asyncio, json, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from bot.app import App
from bot.clock import SystemClock
from bot.logs import setup_logging
from bot.transport import MemoryTransport, RoomInfo
from bot.vault import test_key
from tests.conftest import make_config
setup_logging("ERROR")
t1 = time.perf_counter()
groups = [{{"name": f"居民{{i}}群", "category": "resident" if i else "work"}} for i in range({groups})]
config = make_config({url!r}, groups=groups, contacts=[{{"name": "张警官", "id": "wx_zhang", "role": "officer"}}])
async def main():
    clock = SystemClock()
    app = App(config, MemoryTransport(clock.now, [RoomInfo(g.room_id, g.name, 0) for g in config.groups]),
              secret_key=test_key(), clock=clock)
    t2 = time.perf_counter()
    await app.start()
    t3 = time.perf_counter()
    await app.stop()
    print(json.dumps({{"imports": t1 - t0, "config": t2 - t1, "start": t3 - t2, "total": t3 - t0}}))
asyncio.run(main())
"""


def one(groups: int, url: str, root: Path = ROOT) -> dict:
    code = CHILD.format(root=str(root), groups=groups, url=url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=189)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="also start the bot of this checkout, in the same rounds")
    args = parser.parse_args()
    first, again, base_first, base_again = [], [], [], []
    for root in filter(None, (ROOT, args.baseline)):
        subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "handlers", "storage"], cwd=root, check=True)
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/start.db"
            first.append(one(args.groups, url))
            again.append(one(args.groups, url))
        if args.baseline:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{tmp}/start.db"
                base_first.append(one(args.groups, url, Path(args.baseline)))
                base_again.append(one(args.groups, url, Path(args.baseline)))
    for name, runs in (("first start", first), ("restart", again), ("baseline first start", base_first),
                       ("baseline restart", base_again)):
        if not runs:
            continue
        parts = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        each = ", ".join(f"{r['total']:.2f}" for r in runs)
        print(f"{name} with {args.groups} groups: median {parts['total']:.2f} s (imports {parts['imports']:.2f}, "
              f"config {parts['config']:.2f}, App.start {parts['start']:.2f}; rounds {each})")


if __name__ == "__main__":
    main()
