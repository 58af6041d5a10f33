"""The Node puppet services of tests/interop (README there) as a Python context manager.

    async with node_gateway("v1") as gateway:          # TLS on, token checked
        await gateway.send(cmd="text", **{"from": "wx_wang"}, text="/帮助")
        line = await gateway.wait_for(lambda l: l.get("call") == "messageSendText")

Without node, or without `npm ci` in tests/interop/vX, a test calling need_node() is skipped
with the reason; with CI=true that is a failure instead (CI must run them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any, Callable

import pytest

INTEROP = Path(__file__).resolve().parent / "interop"
TOKEN = "insecure_jingmin-interop"
READY_TIMEOUT = 30.0
WAIT = 15.0


def need_node(generation: str) -> None:
    missing = None
    if shutil.which("node") is None:
        missing = "node is not installed (the interop tests run the Node wechaty-puppet-service)"
    elif not (INTEROP / generation / "node_modules" / "wechaty-puppet-service").is_dir():
        missing = f"tests/interop/{generation} has no node_modules: run (cd tests/interop/{generation} && npm ci)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)


class NodeGateway:
    """One serve.js process: its ready line, every line it printed since, and its stdin."""

    def __init__(self, process: asyncio.subprocess.Process, ready: dict) -> None:
        self.process = process
        self.ready = ready
        self.endpoint: str = ready["endpoint"]
        self.port: int = ready["port"]
        self.lines: list[dict] = []
        self._changed = asyncio.Event()
        self._commands = asyncio.Lock()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(line))
                self._changed.set()

    async def wait_for(self, predicate: Callable[[dict], bool], since: int = 0, timeout: float = WAIT) -> dict:
        """The first line from index `since` on that satisfies `predicate`."""
        async def find() -> dict:
            while True:
                for line in self.lines[since:]:
                    if predicate(line):
                        return line
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(find(), timeout)

    async def send(self, **command: Any) -> dict:
        """One stdin command; returns its ack (raises on the service's error line)."""
        async with self._commands:
            since = len(self.lines)
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(command, ensure_ascii=False) + "\n").encode())
            await self.process.stdin.drain()
            answer = await self.wait_for(lambda line: line.get("ack") == command["cmd"]
                                         or line.get("cmd") == command["cmd"], since)
        if "error" in answer:
            raise AssertionError(f"serve.js refused {command}: {answer['error']}")
        return answer

    def calls(self, name: str) -> list[dict]:
        return [line for line in self.lines if line.get("call") == name]

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def node_gateway(generation: str, *args: str, token: str = TOKEN, port: int = 0):
    need_node(generation)
    process = await asyncio.create_subprocess_exec(
        "node", str(INTEROP / generation / "serve.js"), "--port", str(port), "--token", token, *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
        ready = json.loads(first or b"{}")
        if not ready.get("ready"):
            raise AssertionError(f"serve.js did not start: {first!r}")
    except BaseException:
        process.kill()
        await process.wait()
        raise
    gateway = NodeGateway(process, ready)
    try:
        yield gateway
    finally:
        await gateway.stop()
