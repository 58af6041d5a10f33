"""The one place that imports the wechaty SDK (0.10.7) and papers over what breaks it.

Why this module exists:
- On Python 3.11 `import wechaty` fails: `WechatyOptions` has a dataclass field whose default is
  a `PuppetOptions()` instance, and 3.11 rejects a default whose class has `__hash__ = None`
  (every eq dataclass). We give PuppetOptions identity hashing before the first import. The
  pins in pyproject (pyee<12, urllib3<2, betterproto==1.2.5, ...) fix the other import errors.
- The SDK reads CACHE_DIR at import time (the default scheduler job store path is a class
  attribute) and otherwise creates ./.wechaty in the working directory.
- The SDK's loggers print every message text at INFO, and the endpoint-and-token warning prints
  the token: they are quieted and sent through the root logger (our masking formatter).
- Contact, Room and Tag keep class-level pools and the message-id container is a process-wide
  singleton: a second bot in one process (tests, a reconnect) sees the first one's objects,
  bound to a dead puppet. reset_sdk_caches() clears them.

Import wechaty only after prepare(): `from bot.wechaty_compat import prepare; prepare()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
from typing import Any

_prepared = False
SDK_LOG_LEVEL = logging.WARNING


def prepare(cache_dir: str | None = None) -> None:
    """Make `import wechaty` work; call it before the first import (later calls do nothing)."""
    global _prepared
    if _prepared:
        return
    if cache_dir:
        os.environ["CACHE_DIR"] = cache_dir
    else:
        os.environ.setdefault("CACHE_DIR", tempfile.mkdtemp(prefix="wechaty-cache-"))
    os.environ.setdefault("WECHATY_LOG", "warn")  # read by every SDK logger at import

    existing = set(logging.root.manager.loggerDict)
    import wechaty_puppet

    if wechaty_puppet.PuppetOptions.__hash__ is None:
        wechaty_puppet.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]
    import wechaty  # noqa: F401
    import wechaty_puppet_service  # noqa: F401

    _route_sdk_loggers(set(logging.root.manager.loggerDict) - existing)
    _prepared = True


def _route_sdk_loggers(names: set[str]) -> None:
    """SDK loggers come with their own unmasked stderr handler and propagate=False."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.propagate:
            continue  # not one of wechaty's get_logger() loggers
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(SDK_LOG_LEVEL)
    # Its WARNING "there are endpoint<...> and token<...>" would log the token.
    logging.getLogger("PuppetService").setLevel(logging.ERROR)


def make_options(endpoint: str, token: str, web_port: int, name: str = "jingmin") -> Any:
    """WechatyOptions for a puppet-service endpoint (host:port, plain gRPC).

    - A fresh PuppetOptions each time: the dataclass default instance is shared by all options.
    - web_port: the SDK checks it at login and, if taken, login fails silently (an exception in a
      listener). The web server itself only starts when a plugin registers a blueprint.
    - scheduler: the SDK calls scheduler.start() on every login; a second login (reconnect)
      would raise SchedulerAlreadyRunningError and silently skip on_login. Ours starts once,
      and keeps jobs in memory instead of the SDK's default SQLite file in CACHE_DIR.
    """
    prepare()
    from wechaty import WechatyOptions
    from wechaty_puppet import PuppetOptions

    return WechatyOptions(
        name=name,
        puppet="wechaty-puppet-service",
        puppet_options=PuppetOptions(token=token, end_point=endpoint),
        host="127.0.0.1",
        port=web_port,
        scheduler=_idempotent_scheduler(),
    )


def _idempotent_scheduler() -> Any:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    class StartOnceScheduler(AsyncIOScheduler):
        def start(self, *args: Any, **kwargs: Any) -> None:
            if not self.running:
                super().start(*args, **kwargs)

    return StartOnceScheduler()


def reset_sdk_caches() -> None:
    """Forget every SDK object cached at class level; call between bot instances."""
    prepare()
    from wechaty import Wechaty
    from wechaty.user import Contact, Room, Tag
    from wechaty.utils.async_helper import SingleIdContainer

    # Dynamic subclasses made by Wechaty.init_puppet() share these base-class dicts.
    Contact._pool.clear()
    Room._pool.clear()
    Tag._pool.clear()
    SingleIdContainer._instance = None
    Wechaty._global_instance = None


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def endpoint_reachable(endpoint: str, timeout: float = 3.0) -> bool:
    """Check before bot.start(): on an unreachable endpoint the SDK calls loop.stop(), which
    kills the whole event loop (and every other task of the process) instead of raising."""
    host, _, port = endpoint.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def stop_bot(bot: Any, start_task: asyncio.Task | None) -> None:
    """Stop a bot whose start() runs as `start_task`. start() never returns while connected,
    so cancel it first; bot.stop() then sends Stop and closes the channel (errors ignored: the
    service may already be gone)."""
    if start_task is not None and not start_task.done():
        start_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await start_task
    with contextlib.suppress(Exception):
        if bot._puppet is not None:  # noqa: SLF001 - stop() fails on an already stopped bot
            await bot.stop()


async def run_with_reconnect(bot: Any, first_delay: float = 0.5, max_delay: float = 30.0,
                             on_drop: Any = None) -> None:
    """Run `bot` until cancelled, reconnecting with backoff whenever the Event stream ends.

    Use this instead of bot.start(). Wechaty.start() on a dropped stream sleeps a fixed 60 s,
    retries once and, if the service is still down then, dies with the exception; on a stream
    the service ends cleanly it returns as if all were well; on an unreachable endpoint it calls
    loop.stop(). These are the steps of Wechaty.start() without that handling. The same
    PuppetService instance is reused, so objects the SDK cached stay usable.
    `on_drop(error, delay)`, if given, is called after every drop, before waiting `delay` s."""
    from grpclib.exceptions import GRPCError, StreamTerminatedError
    from wechaty_puppet import WechatyPuppetError

    delay = first_delay
    while True:
        puppet = None
        try:
            await bot.init_puppet()
            puppet = bot.puppet
            puppet.login_user_id = None
            await bot.init_puppet_event_bridge(puppet)
            await puppet.start()  # returns when the stream ends, raises when it drops
        except (OSError, StreamTerminatedError, GRPCError, WechatyPuppetError) as error:
            logging.getLogger(__name__).warning("puppet service connection lost: %r", error)
            dropped: BaseException | None = error
        else:
            dropped = None  # the service ended the stream cleanly: as deaf as a drop
        if puppet is not None and puppet.login_user_id:
            delay = first_delay  # it was connected: retry quickly
        _drop_connection(puppet)
        if on_drop is not None:
            on_drop(dropped, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def _drop_connection(puppet: Any) -> None:
    """What PuppetService.stop() does, minus its Stop RPC, which fails when the service is gone
    and then leaves the channel open."""
    if puppet is None:
        return
    puppet._event_stream.remove_all_listeners()  # noqa: SLF001 - wechaty-puppet-service pinned
    if puppet.channel is not None:
        puppet.channel.close()
        puppet.channel = None
    puppet._puppet_stub = None  # noqa: SLF001
