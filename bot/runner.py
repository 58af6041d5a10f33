"""Runs the bot until Ctrl-C or SIGTERM, on the transport the config names.

- memory: the in-memory transport (nothing reaches WeChat).
- simulator: a simulated WeChat in this process (seeded from the config's groups and contacts),
  the bot over the real wechaty SDK against it, and the web chat page. If an endpoint is set
  (WECHATY_PUPPET_SERVICE_ENDPOINT, e.g. a `jingmin simulator` elsewhere) the bot connects there.
- wechaty: the real SDK against the puppet service at wechat.endpoint with wechat.token (TLS,
  watchdog and attachment limits from the other wechat.* settings).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from datetime import timedelta

from sqlalchemy.engine import make_url

from bot.app import App
from bot.clock import SystemClock
from bot.config import Config
from bot.instance import AlreadyRunning
from bot.transport import MemoryTransport, Transport, TransportError

log = logging.getLogger(__name__)

SIM_TOKEN = "sim-token"  # the simulator accepts any token; the SDK insists on one


def make_transport(config: Config, clock: SystemClock, endpoint: str | None = None) -> Transport:
    if config.bot.transport == "memory":
        return MemoryTransport(clock.now)
    from bot.wechaty_compat import GatewayTLS
    from bot.wechaty_transport import WechatyTransport

    wechat = config.wechat
    token = wechat.token or (SIM_TOKEN if config.bot.transport == "simulator" else None)
    tls = GatewayTLS(enabled=wechat.tls, ca_file=wechat.tls_ca_file, server_name=wechat.tls_server_name,
                     skip_verify=wechat.tls_skip_verify)
    return WechatyTransport(endpoint or wechat.endpoint, token, clock=clock, name=config.bot.name, tls=tls,
                            watchdog_seconds=wechat.watchdog_seconds,
                            attachment_max_bytes=wechat.attachment_max_kb * 1024,
                            attachment_timeout=wechat.attachment_timeout_seconds)


def wire(app: App, transport: Transport) -> None:
    """Pause the outbox while the gateway is down; at every login tell the plugins, and after
    an outage the officers (App.report_outage: only one long enough to have lost messages)."""
    def changed(up: bool, outage: timedelta | None = None) -> None:
        if not up:
            app.outbox.pause()
            return
        app.outbox.resume()
        if app.started:
            app.spawn(app.connected(), name="on-connect")
            if outage is not None:
                app.spawn(app.report_outage(outage), name="outage-note")

    if hasattr(transport, "on_connection_change"):
        transport.on_connection_change = changed


def freeze_startup_objects() -> None:
    """What start-up loaded (SQLAlchemy's mappers, the word list, the model, the guide ...) lives
    as long as the process. Take it out of the garbage collector's sight, so that each full
    collection walks only what the bot made since: in bench/bench_transport.py that cut full
    collections from 1.5 s to 0.6 s per 5,000 messages."""
    gc.collect()
    gc.freeze()


async def run_bot(config: Config, secret_key: str) -> int:
    clock = SystemClock(config.bot.tz)
    simulator = world = None
    endpoint = None
    if config.bot.transport == "simulator" and not config.wechat.endpoint:
        from bot.simulator import PuppetSimulator
        from bot.simulator.seed import world_from_config

        world = world_from_config(config)
        simulator = PuppetSimulator(world)
        await simulator.start()
        endpoint = simulator.endpoint
    transport = make_transport(config, clock, endpoint)
    app = App(config, transport, secret_key=secret_key, clock=clock)
    wire(app, transport)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
    except AlreadyRunning as error:
        print(f"jingmin: {error}; not starting a second one", file=sys.stderr, flush=True)
        if simulator is not None:
            await simulator.stop()
        return 2
    except TransportError as error:
        print(f"jingmin: {error}", file=sys.stderr, flush=True)
        if simulator is not None:
            await simulator.stop()
        return 2
    await app.connected()
    freeze_startup_objects()
    from bot.web import WebServer

    server = WebServer(app, transport, world)
    try:
        port = await server.start(config.wechat.web_host, config.wechat.web_port)
    except OSError as error:
        print(f"jingmin: cannot listen on {config.wechat.web_host}:{config.wechat.web_port}: {error.strerror}",
              file=sys.stderr, flush=True)
        await app.stop()
        return 2
    url = f"http://{config.wechat.web_host}:{port}/"
    what = f"web chat page {url}" if world is not None else f"health {url}healthz"
    for spec in app.registry.web_apps:  # the plugins' pages (the officers' console)
        what += f"; pages {url}{spec.prefix.strip('/')}/"
    database = make_url(config.database_url).render_as_string(hide_password=True)
    print(f"jingmin is running ({config.bot.transport} transport, database {database}); "
          f"{what}; Ctrl-C stops it", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        await app.stop()
        if simulator is not None:
            await simulator.stop()
    return 0


async def run_simulator(config: Config, grpc_port: int, http_port: int, host: str = "127.0.0.1") -> int:
    """Only the simulated WeChat: its gRPC puppet service and the web page / HTTP API."""
    from bot.simulator import PuppetSimulator
    from bot.simulator.seed import world_from_config
    from bot.web import WebServer

    world = world_from_config(config)
    simulator = PuppetSimulator(world)
    try:
        port = await simulator.start(host=host, port=grpc_port)
    except OSError as error:
        print(f"jingmin: cannot listen on {host}:{grpc_port}: {error.strerror}", file=sys.stderr)
        return 2
    server = WebServer(None, _SimulatorStatus(simulator), world)
    web_port = await server.start(host, http_port)
    print(f"simulated WeChat: WECHATY_PUPPET_SERVICE_ENDPOINT={host}:{port} (any token); "
          f"chat page and API http://{host}:{web_port}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        await simulator.stop()
    return 0


class _SimulatorStatus:
    """/healthz of a bare simulator: 'connected' while it serves."""

    def __init__(self, simulator) -> None:
        self.simulator = simulator
        self.last_event_at = None

    @property
    def connected(self) -> bool:
        return self.simulator._server is not None  # noqa: SLF001
