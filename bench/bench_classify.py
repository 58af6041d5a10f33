"""Classifier benchmark: start-up cost and warm throughput on one core.

    python bench/bench_classify.py [--seconds 3]

Start-up is measured in fresh subprocesses so the numbers include importing jieba and numpy,
loading the jieba dictionary and model.npz exactly as the bot would on boot; the peak RSS is that
of such a process after its first classification.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STARTUP_PROBE = """
import time, json
t0 = time.perf_counter()
from handlers.intents import classify
from handlers.intents import segment
t1 = time.perf_counter()
dict_load = segment.warm_up()
t2 = time.perf_counter()
classify("楼道里一股煤气味儿")
t3 = time.perf_counter()
again = segment.warm_up()
import resource
print(json.dumps({"import_s": t1 - t0, "dictionary_s": dict_load, "first_call_s": t3 - t2,
                  "second_warm_up_s": again, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def startup(runs: int = 3) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", STARTUP_PROBE], env=env, capture_output=True,
                              text=True, check=True, cwd=ROOT)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def throughput(seconds: float) -> tuple[float, float, int, float]:
    """Messages/s over the labelled texts, round-robin, after one warm-up pass; and messages per
    CPU-second of this process (what one core does, even on a machine other work shares)."""
    from handlers.intents import classify, dataset

    texts = [e.text for e in dataset.load()]
    for t in texts:  # warm-up: dictionary, model, regex caches
        classify(t)
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for t in texts:
            classify(t)
        done += len(texts)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return done / elapsed, elapsed / done * 1e6, done, done / cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as in production
    for i, r in enumerate(startup()):
        print(f"start-up run {i + 1}: import {r['import_s'] * 1000:.0f} ms, jieba dictionary "
              f"{r['dictionary_s'] * 1000:.0f} ms, first classify {r['first_call_s'] * 1000:.0f} ms, "
              f"second load {r['second_warm_up_s'] * 1000:.0f} ms (loaded once), peak RSS {r['rss_mb']:.0f} MB")
    rate, micros, n, per_cpu = throughput(args.seconds)
    print(f"throughput: {rate:,.0f} messages/s wall clock ({micros:.0f} µs/message, {n} messages, one core); "
          f"{per_cpu:,.0f} messages per CPU-second")


if __name__ == "__main__":
    main()
