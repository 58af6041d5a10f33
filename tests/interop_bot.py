"""The real bot against the real Node puppet services of tests/interop (see its README).

NodeService runs `node tests/interop/<generation>/serve.js` and keeps every JSON line it prints;
the `node_service` fixture keeps one per generation for a test module (node takes seconds to
start). interop_bot() starts an App the way bot/runner.py does (make_transport, wire, start,
connected) on a new SQLite database, over the real WechatyTransport, against that service.

Without node or without a generation's node_modules the tests skip, saying which and how to
install; with CI=true that is a failure (.ci/run installs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from bot.wechaty_compat import prepare, reset_sdk_caches

prepare()

from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.runner import make_transport, wire  # noqa: E402
from bot.vault import test_key  # noqa: E402
from tests.conftest import ROOT, make_config, sample_raw  # noqa: E402
from tests.interop_fixtures import TOKEN, need_node  # noqa: E402  (one check for both suites)

INTEROP = ROOT / "tests" / "interop"
ROOM = "xingfuli-residents@chatroom"  # 幸福里居民群 in the Node world
BOT_ID, BOT_NAME = "wx_bot", "警民群助手"
WAIT = 15.0  # seconds, for every wait on the bot or the service
START_WAIT = 40.0  # for node to load the packages and listen (10 s on a busy 2-core machine)
FAST_OUTBOX = {"min_interval_seconds": 0.05, "jitter_seconds": 0, "room_hourly_cap": 1000, "max_attempts": 5}
RECONNECT = (0.2, 1.0)  # first and longest delay between reconnects, seconds
GENERATIONS = ("v0", "v1")  # wechaty-puppet-service 0.21 (plain gRPC), 1.19 (TLS, token checked)


class NodeService:
    """One serve.js process: commands go to its stdin, every stdout line is kept in `lines`.

    A plain subprocess with a reader thread, not an asyncio one, so that one service can outlive
    the event loop of a test: starting node is the slowest part of a test (2-10 s)."""

    def __init__(self, generation: str, log_dir: Path) -> None:
        self.generation = generation
        self.log_path = log_dir / f"serve-{generation}.log"
        self.lines: list[dict] = []
        self.ready: dict = {}
        self.port = 0
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._commands = threading.Lock()

    def start(self) -> dict:
        """Start serve.js (on the port of its last run, if any); block until its ready line.
        From a test: `await asyncio.to_thread(service.start)`."""
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                ["node", str(INTEROP / self.generation / "serve.js"), "--port", str(self.port), "--token", TOKEN],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env={**os.environ, "WECHATY_LOG": "warn"})
        since = len(self.lines)
        self._reader = threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_WAIT
        while not any("ready" in line or "fatal" in line for line in self.lines[since:]):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError(f"serve.js {self.generation} did not start within {START_WAIT:.0f} s; "
                                   f"its log ends: {self.log_tail()}")
            time.sleep(0.02)
        self.ready = next(line for line in self.lines[since:] if "ready" in line or "fatal" in line)
        if "fatal" in self.ready:
            raise RuntimeError(f"serve.js {self.generation}: {self.ready['fatal']}")
        self.port = self.ready["port"]
        return self.ready

    def _read(self, stdout) -> None:  # noqa: ANN001
        for raw in stdout:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(raw))

    async def wait_line(self, matches: Callable[[dict], bool], since: int = 0, timeout: float = WAIT) -> dict:
        """The first line from `since` on that matches, waiting for it if need be."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = since
        while True:
            for line in self.lines[seen:]:
                if matches(line):
                    return line
                seen += 1
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"serve.js {self.generation} printed nothing matching within {timeout:.0f} s; "
                                     f"last lines: {self.lines[-8:]}; its log ends: {self.log_tail()}")
            await asyncio.sleep(0.02)

    async def command(self, cmd: str, **fields: Any) -> dict:
        """Send one command and return its ack (serve.js answers them in order)."""
        with self._commands:
            since = len(self.lines)
            self._proc.stdin.write((json.dumps({"cmd": cmd, **fields}, ensure_ascii=False) + "\n").encode())
            self._proc.stdin.flush()
        answer = await self.wait_line(lambda line: line.get("ack") == cmd or line.get("cmd") == cmd, since)
        if "error" in answer:
            raise AssertionError(f"serve.js refused {cmd}: {answer['error']}")
        return answer

    def kill(self) -> None:
        """SIGKILL: no goodbye on the stream, as when a gateway's machine dies."""
        self._proc.kill()
        self._proc.wait()
        self._proc.stdin.close()
        self._reader.join(5)

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdin.close()
        self._reader.join(5)
        self._proc = None

    def log_tail(self, n: int = 1200) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        return ""


@pytest.fixture(scope="module")
def node_service(request, tmp_path_factory):
    """One serve.js per generation (the test's `generation` parameter) and test module."""
    generation = request.param
    need_node(generation)
    service = NodeService(generation, tmp_path_factory.mktemp(f"interop-{generation}"))
    try:
        service.start()
        yield service
    finally:
        service.stop()


def interop_config(db_url: str, ready: dict, tmp_path: Path) -> Config:
    """The sample community of config.yaml (same contact ids as the Node world), its residents'
    group bound to the Node room, the wechaty transport to this service, no waiting anywhere."""
    groups = [dict(g, id=ROOM) if g["name"] == "幸福里居民群" else g for g in sample_raw()["groups"]]
    wechat = {"endpoint": ready["endpoint"], "token": TOKEN, "accept_friends": True,
              "friend_accept_interval_seconds": 0}
    if ready.get("tls"):
        ca_file = tmp_path / "wechaty-root-ca.pem"
        ca_file.write_text(ready["ca"], encoding="utf-8")
        wechat.update(tls=True, tls_ca_file=str(ca_file), tls_server_name=ready["server_name"])
    raw_bot = dict(sample_raw()["bot"], transport="wechaty")
    return make_config(db_url, bot=raw_bot, wechat=wechat, groups=groups, outbox=FAST_OUTBOX)


class InteropBot:
    """The bot and the Node service it talks to, with a resident's and a reader's words."""

    def __init__(self, service: NodeService, app: App, transport: Any) -> None:
        self.service, self.app, self.transport = service, app, transport

    def mark(self) -> int:
        """A point in the service's output: waits from here on see only what came after."""
        return len(self.service.lines)

    async def say(self, sender: str, text: str, room: str | None = None) -> str:
        fields: dict[str, Any] = {"from": sender, "text": text}
        if room is not None:
            fields.update(room=room, mentions=[BOT_ID] if f"@{BOT_NAME}" in text else [])
        return (await self.service.command("text", **fields))["id"]

    async def reply_to(self, conversation: str, since: int, containing: str = "") -> dict:
        """The first text the bot sent to a contact or room after `since` (containing that)."""
        return await self.service.wait_line(
            lambda line: line.get("call") == "messageSendText" and line["to"] == conversation
            and containing in line["text"], since)

    async def until(self, condition: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(poll(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"not within {timeout:.0f} s: {what}; serve.js log: {self.service.log_tail()}") from None


@contextlib.asynccontextmanager
async def interop_bot(service: NodeService, tmp_path: Path):
    """The bot, started against that service as bot/runner.py starts it, on a new database."""
    reset_sdk_caches()
    app = None
    try:
        ready = service.ready
        assert ready["tls"] == (service.generation == "v1"), ready
        config = interop_config(f"sqlite+aiosqlite:///{tmp_path / 'jingmin.db'}", ready, tmp_path)
        clock = SystemClock()
        transport = make_transport(config, clock)
        # Production backs off 0.5 s .. 30 s; a test cannot wait that long for a restarted service.
        transport._first_delay, transport._max_delay = RECONNECT  # noqa: SLF001
        app = App(config, transport, secret_key=test_key(), clock=clock, tally_interval=3600)
        wire(app, transport)
        await asyncio.wait_for(app.start(), WAIT + 10)
        await app.connected()
        yield InteropBot(service, app, transport)
    finally:
        if app is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(app.stop(), WAIT)
        reset_sdk_caches()
