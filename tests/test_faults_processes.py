"""Faults with real processes, counted at the simulated WeChat: the bot killed with SIGKILL in the
middle of a push to many groups, and the gateway killed and started again.

The simulator (`jingmin simulator`) and the bot (`jingmin run`) are separate processes on
loopback, as in production; deliveries are counted from the simulator's /api/sent. The
property: every group gets the announcement exactly once, or its outbox row is marked
`uncertain` (sent maybe: never resent, named in the officer's summary). A short version for CI;
bench/bench_soak.py is the long one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, sample_raw

GROUPS = 12
OFFICER = "张警官"
WORK = "幸福里警务工作群"


def community(tmp_path: Path, db_url: str, name: str = "bot") -> Path:
    raw = sample_raw()
    raw["groups"] = [{"name": f"居民{i}群", "category": "resident"} for i in range(1, GROUPS + 1)] + \
        [{"name": WORK, "category": "work"}]
    raw["contacts"] = [{"name": OFFICER, "id": "wx_zhang", "role": "officer", "rooms": [WORK]}]
    raw["pushes"] = {**raw.get("pushes", {}), "schedules": []}
    raw["database"] = {"url": db_url}
    raw["data_dir"] = str(tmp_path / "data")
    raw["bot"] = {**raw["bot"], "transport": "simulator", "log_level": "WARNING"}
    raw["wechat"] = {**raw.get("wechat", {}), "web_port": 0, "watchdog_seconds": 5}
    # Paced, but fast enough that a kill lands in the middle of the push.
    raw["outbox"] = {"min_interval_seconds": 0.3, "jitter_seconds": 0.1, "room_hourly_cap": 100, "max_attempts": 20}
    raw["quiet_hours"] = {"start": "04:00", "end": "04:01"}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


class Processes:
    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.db_url = db_url
        self.config = community(tmp_path, db_url)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for key in ("JINGMIN_DATABASE_URL", "JINGMIN_SECRET_KEY", "WECHATY_PUPPET_SERVICE_ENDPOINT"):
            self.env.pop(key, None)
        self.sim: subprocess.Popen | None = None
        self.bot: subprocess.Popen | None = None
        self.grpc_port = 0
        self.api = ""
        self.health = ""

    def _spawn(self, *args: str, env=None) -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args, "--config", str(self.config)], cwd=ROOT,
                                env=env or self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"{args[0]} did not start (exit {proc.wait()})")
        return proc, line

    def start_simulator(self) -> None:
        self.sim, line = self._spawn("simulator", "--port", str(self.grpc_port), "--http-port", "0")
        # "simulated WeChat: WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:P (any token); chat page and API http://...:H/"
        self.grpc_port = int(line.split("ENDPOINT=")[1].split()[0].rsplit(":", 1)[1])
        self.api = line.rsplit("http://", 1)[1].split("/")[0]

    def start_bot(self) -> None:
        env = {**self.env, "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{self.grpc_port}"}
        self.bot, line = self._spawn("run", env=env)
        self.health = line.split("health http://")[1].split("/")[0]
        # Listening only once the gateway's event stream is up: the simulator, like a real
        # gateway, drops what is said to an account nobody listens for.
        _wait(lambda: self.healthz() == 200, 60, "the bot connected to the gateway")

    def kill(self, proc: subprocess.Popen | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in (self.bot, self.sim):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.kill(proc)

    # ---- the simulator's API ------------------------------------------------------------------

    def say(self, sender: str, text: str, room: str) -> None:
        body = json.dumps({"from": sender, "room": room, "text": text}).encode()
        request = urllib.request.Request(f"http://{self.api}/api/say", data=body,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()

    def sent(self) -> list[dict]:
        with urllib.request.urlopen(f"http://{self.api}/api/sent", timeout=10) as reply:
            return json.loads(reply.read())

    def healthz(self) -> int:
        try:
            with urllib.request.urlopen(f"http://{self.health}/healthz", timeout=5) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0


@pytest.fixture
def procs(tmp_path):
    """SQLite: the PostgreSQL faults are tests/test_faults.py's (terminated connections)."""
    p = Processes(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}")
    yield p
    p.stop()


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _deliveries(sent: list[dict], marker: str) -> Counter:
    return Counter(s["room"] for s in sent if marker in (s["text"] or ""))


async def _uncertain_rooms(db_url: str, marker: str) -> set[str]:
    from sqlalchemy import select

    from storage import db
    from storage.models import OutboxMessage

    engine = db.create_engine(db_url)
    try:
        async with db.session_factory(engine)() as s:
            rows = (await s.execute(select(OutboxMessage.room_id).where(
                OutboxMessage.status == "uncertain", OutboxMessage.body.contains(marker)))).scalars()
            return set(rows)
    finally:
        await engine.dispose()


KILLS = int(os.environ.get("JINGMIN_FAULT_KILLS", "1"))


def _check_once_or_uncertain(procs: Processes, marker: str, uncertain: set[str]) -> Counter:
    counts = _deliveries(procs.sent(), marker)
    rooms = {f"room:居民{i}群" for i in range(1, GROUPS + 1)}
    doubled = {room: n for room, n in counts.items() if n > 1}
    lost = rooms - set(counts) - uncertain
    assert not doubled, f"sent twice: {doubled}"
    assert not lost, f"lost without a mark: {lost}"
    return counts


async def _settle(procs: Processes, db_url: str, marker: str, timeout: float = 90) -> set[str]:
    """Wait until every group got the push or its row is marked uncertain; the uncertain rooms."""
    rooms = {f"room:居民{i}群" for i in range(1, GROUPS + 1)}
    deadline = time.monotonic() + timeout
    while True:
        uncertain = await _uncertain_rooms(db_url, marker)
        if set(_deliveries(procs.sent(), marker)) | uncertain >= rooms or time.monotonic() > deadline:
            return uncertain
        time.sleep(0.3)


async def test_kill_9_mid_push_and_a_gateway_restart_deliver_each_once_or_report_it(procs, tmp_path):
    """One pair of processes for both faults (each start costs seconds): the bot is killed with
    SIGKILL in the middle of a push to 12 groups and started again; then the gateway is killed
    (/healthz says 503 meanwhile), started again, and a second push goes out once everywhere."""
    db_url = procs.db_url
    procs.start_simulator()
    procs.start_bot()
    marker = "【停水通知】"
    procs.say(OFFICER, f"/公告 {marker}明天上午9点到12点停水，请提前储水。 居民群", WORK)
    confirmed = _wait(lambda: [s["text"] for s in procs.sent() if s["room"] == f"room:{WORK}"], 30, "the reply")
    assert "好的，正在向 12 个群推送" in confirmed[0], confirmed  # daytime: no "休息时间"
    for kill in range(KILLS):
        _wait(lambda: len(_deliveries(procs.sent(), marker)) >= 3 * (kill + 1), 60, "a few deliveries")
        procs.kill(procs.bot)
        procs.start_bot()
    uncertain = await _settle(procs, db_url, marker)
    _check_once_or_uncertain(procs, marker, uncertain)

    procs.kill(procs.sim)
    _wait(lambda: procs.healthz() == 503, 30, "/healthz 503 while the gateway is down")
    time.sleep(1)
    assert procs.healthz() == 503
    procs.start_simulator()  # same port, a fresh WeChat
    _wait(lambda: procs.healthz() == 200, 60, "the bot reconnected")
    marker = "【安全提示】"
    procs.say(OFFICER, f"/公告 {marker}近期有冒充快递理赔的诈骗电话，请勿转账。 居民群", WORK)
    counts = _check_once_or_uncertain(procs, marker, await _settle(procs, db_url, marker))
    assert set(counts.values()) == {1} and len(counts) == GROUPS
