"""The transport's fixes of issue #13 against the real Node puppet services (tests/interop):
wechaty-puppet-service 0.21 (v0, plain gRPC) and 1.19 (v1, TLS on, token checked), each over
wechaty-puppet-mock, driven over stdin. Skipped with the reason without node or `npm ci`
(a failure with CI=true)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging

import pytest

from tests.interop_fixtures import TOKEN, WAIT, NodeGateway, node_gateway
from tests.sdk_fixtures import FAST_OUTBOX, sdk_cache_dir  # noqa: F401 - fixture

from bot.app import App  # noqa: E402 - after sdk_fixtures' prepare()
from bot.clock import SystemClock  # noqa: E402
from bot.logs import MaskingJsonFormatter  # noqa: E402
from bot.messages import IncomingMessage  # noqa: E402
from bot.runner import wire  # noqa: E402
from bot.transport import TransportError  # noqa: E402
from bot.vault import test_key  # noqa: E402
from bot.wechaty_compat import GatewayTLS, reset_sdk_caches  # noqa: E402
from bot.wechaty_transport import WechatyTransport  # noqa: E402
from tests.conftest import make_config  # noqa: E402

BOTH = pytest.mark.parametrize("generation", ["v0", "v1"])


async def until(condition, timeout: float = WAIT) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


def transport_for(gateway: NodeGateway, token: str = TOKEN, **options) -> WechatyTransport:
    options.setdefault("first_delay", 0.2)
    options.setdefault("max_delay", 2.0)
    return WechatyTransport(gateway.endpoint, token, **options)


@contextlib.asynccontextmanager
async def assistant(gateway: NodeGateway, tmp_path, **options):
    """The whole bot (App, plugins, outbox), wired as `jingmin run` wires it, on the Node service."""
    reset_sdk_caches()
    config = make_config(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}", outbox=FAST_OUTBOX)
    transport = transport_for(gateway, **options)
    app = App(config, transport, secret_key=test_key(), clock=SystemClock(), tally_interval=3600)
    wire(app, transport)
    await asyncio.wait_for(app.start(), WAIT + 10)
    try:
        yield app
    finally:
        await asyncio.wait_for(app.stop(), WAIT)
        reset_sdk_caches()


@contextlib.asynccontextmanager
async def receiving(gateway: NodeGateway, **options):
    """Only the transport: what it hands the core, in `events`."""
    reset_sdk_caches()
    transport = transport_for(gateway, **options)
    events: list = []

    async def sink(event) -> None:
        events.append(event)

    await transport.start(sink)
    try:
        yield transport, events
    finally:
        await transport.stop()
        reset_sdk_caches()


async def reply_to(gateway: NodeGateway, who: str, since: int) -> dict:
    return await gateway.wait_for(lambda line: line.get("call") == "messageSendText" and line.get("to") == who, since)


@BOTH
async def test_error_events_in_every_shape_then_a_question_is_still_answered(generation, tmp_path):
    async with node_gateway(generation) as gateway, assistant(gateway, tmp_path) as app:
        for shape in ("error", "none", "data"):  # 0.21: {} / "" / {"data"}; 1.19: {"gerror": ...} each
            await gateway.send(cmd="error", shape=shape, data="mock error")
        since = len(gateway.lines)
        await gateway.send(cmd="text", text="/帮助", **{"from": "wx_wang"})
        answer = await reply_to(gateway, "wx_wang", since)
        assert "110" in answer["text"]
        assert app.transport.connected and app.transport.logins == 1


@BOTH
async def test_an_image_sent_as_a_url_filebox_arrives_as_bytes(generation):
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    async with node_gateway(generation) as gateway, receiving(gateway) as (transport, events):
        ack = await gateway.send(cmd="image", name="现场.png", base64=base64.b64encode(photo).decode(),
                                 **{"from": "wx_wang"})
        await until(lambda: events)
        [message] = events
        assert isinstance(message, IncomingMessage) and message.id == ack["id"]
        assert (message.attachment, message.attachment_name, message.attachment_error) == (photo, "现场.png", None)
        await gateway.wait_for(lambda line: line.get("served") and line["bytes"] == len(photo))


async def test_a_file_over_20_kb_from_a_1x_service_comes_by_the_download_rpc():
    """1.x turns it into a UUID FileBox, which only its Download RPC hands over."""
    document = bytes(range(256)) * 160  # 40 KB
    async with node_gateway("v1") as gateway, receiving(gateway) as (transport, events):
        await gateway.send(cmd="file", name="证明.pdf", base64=base64.b64encode(document).decode(),
                           **{"from": "wx_wang"})
        await until(lambda: events)
        [message] = events
        assert (message.attachment, message.attachment_error) == (document, None)


async def test_a_wrong_token_is_one_clear_line_and_is_never_logged(caplog):
    wrong = "insecure_wrong-token-7c41"
    caplog.set_level(logging.DEBUG)
    async with node_gateway("v1") as gateway:
        transport = transport_for(gateway, wrong)
        started = asyncio.get_running_loop().time()
        with pytest.raises(TransportError) as refused:
            await transport.start(lambda event: None)
        assert str(refused.value) == "the WeChat gateway refused the token"
        assert asyncio.get_running_loop().time() - started < 5  # not "did not log in within 20 s"
        assert not gateway.calls("start")
    formatter = MaskingJsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert lines and not [line for line in lines if wrong in line]


@pytest.mark.parametrize("tls", ["auto", "ca file", "skip verify"])
async def test_tls_to_a_1x_service(tls, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with node_gateway("v1") as gateway:
        ca = tmp_path / "wechaty-ca.pem"
        ca.write_text(gateway.ready["ca"])
        settings = {"auto": GatewayTLS(), "ca file": GatewayTLS(enabled=True, ca_file=str(ca)),
                    "skip verify": GatewayTLS(enabled=True, skip_verify=True, server_name="anything")}[tls]
        async with receiving(gateway, tls=settings) as (transport, events):
            assert transport.uses_tls is True
            await until(lambda: transport.last_heartbeat_at is not None)  # 1.x greets each stream with one
            await gateway.send(cmd="text", text="你好", **{"from": "wx_zhang"})
            await until(lambda: events)
            assert events[0].text == "你好"
    formatter = MaskingJsonFormatter()
    assert not [line for line in map(formatter.format, caplog.records) if TOKEN in line]


async def test_a_certificate_for_another_name_is_a_clear_error():
    async with node_gateway("v1") as gateway:
        transport = transport_for(gateway, tls=GatewayTLS(enabled=True, server_name="gateway.example.org"))
        with pytest.raises(TransportError, match="TLS certificate is not trusted"):
            await transport.start(lambda event: None)


async def test_a_0x_service_is_reached_in_plain_grpc_by_default():
    async with node_gateway("v0") as gateway, receiving(gateway) as (transport, events):
        assert transport.uses_tls is False


@BOTH
async def test_logout_then_login_on_the_same_stream_keeps_the_bot_answering(generation, tmp_path):
    async with node_gateway(generation) as gateway, assistant(gateway, tmp_path) as app:
        await gateway.send(cmd="logout")
        await until(lambda: not app.transport.connected)
        await gateway.send(cmd="login")
        await until(lambda: app.transport.connected)
        since = len(gateway.lines)
        await gateway.send(cmd="text", text="/帮助", **{"from": "wx_wang"})
        assert "110" in (await reply_to(gateway, "wx_wang", since))["text"]
        assert app.transport.logins == 2


@BOTH
async def test_no_stop_is_sent_and_a_second_client_does_not_knock_the_first_off(generation):
    async with node_gateway(generation) as gateway, receiving(gateway) as (first, events):
        second = transport_for(gateway, login_timeout=3.0)
        with pytest.raises(TransportError, match="did not log in") as refused:
            await second.start(lambda event: None)
        assert "already serves another client" in str(refused.value)
        await gateway.send(cmd="text", text="还在吗", **{"from": "wx_wang"})
        await until(lambda: events)
        assert first.connected and first.logins == 1
    assert not gateway.calls("stop")


async def test_a_restarted_1x_service_is_reconnected_over_tls_and_the_bot_answers(tmp_path):
    async with node_gateway("v1") as gateway, assistant(gateway, tmp_path) as app:
        await gateway.stop()
        await until(lambda: not app.transport.connected)
        async with node_gateway("v1", port=gateway.port) as again:
            await until(lambda: app.transport.connected, timeout=WAIT + 10)
            since = len(again.lines)
            await again.send(cmd="text", text="/帮助", **{"from": "wx_wang"})
            assert "110" in (await reply_to(again, "wx_wang", since))["text"]
            assert [json.dumps(c) for c in again.calls("stop")] == []
