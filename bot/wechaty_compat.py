"""The one place that imports the wechaty SDK (0.10.7) and papers over what breaks it.

Why this module exists:
- On Python 3.11 `import wechaty` fails: `WechatyOptions` has a dataclass field whose default is
  a `PuppetOptions()` instance, and 3.11 rejects a default whose class has `__hash__ = None`
  (every eq dataclass). We give PuppetOptions identity hashing before the first import. The
  pins in pyproject (pyee<12, urllib3<2, betterproto==1.2.5, ...) fix the other import errors.
- The SDK reads CACHE_DIR at import time (the default scheduler job store path is a class
  attribute) and otherwise creates ./.wechaty in the working directory.
- The SDK's loggers print every message text at INFO, and the endpoint-and-token warning prints
  the token: they are quieted and sent through the root logger (our masking formatter), through
  a filter that blanks the token (a 1.x gateway quotes a wrong token in its error text).
- Contact, Room and Tag keep class-level pools and the message-id container is a process-wide
  singleton: a second bot in one process (tests, a reconnect) sees the first one's objects,
  bound to a dead puppet. reset_sdk_caches() clears them.
- The Event stream (PuppetService._listen_for_event) dies on any payload it did not expect: an
  error event as 0.2x sends it (`{}`), as 1.x sends it (`{"gerror": ...}`), an event without
  payload (`""`), a heartbeat without `data`. GatewayPuppet reads the stream with parse_event,
  which knows every shape both generations send; an event it cannot read is dropped and
  reported, never the stream.
- PuppetService connects in plain text only, and sends Stop before every Start (each reconnect
  restarts the remote puppet; two clients knock each other off). GatewayPuppet speaks TLS as a
  1.x Node client does (GatewayTLS), never sends Stop, and adds the Download RPC the Python
  stubs lack (1.x sends files over 20 KB as UUID FileBoxes).
- FileBox.from_json knows only the 0.2x JSON (`remoteUrl`; 1.x says `url`): read_file_box reads both.

Import wechaty only after prepare(): `from bot.wechaty_compat import prepare; prepare()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import socket
import ssl
import tempfile
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

_prepared = False
SDK_LOG_LEVEL = logging.WARNING
PROBE_TIMEOUT = 5.0  # seconds for the TCP connect and TLS probe before each connect
START_TIMEOUT = 30.0  # seconds for the Start RPC

# The root CA the wechaty community built into every 1.x puppet service (wechaty-puppet-service
# src/auth/ca.ts, valid 2021-08 to 2031-08). A service that keeps its built-in certificate
# (CN=insecure, for tokens "insecure_<uuid>") is signed by it; Node clients trust it by default.
WECHATY_ROOT_CA = """-----BEGIN CERTIFICATE-----
MIIFxTCCA62gAwIBAgIUYddLAoa8JnLzJ80l2u5vGuFsaEIwDQYJKoZIhvcNAQEL
BQAwcjELMAkGA1UEBhMCVVMxFjAUBgNVBAgMDVNhbiBGcmFuY2lzY28xEjAQBgNV
BAcMCVBhbG8gQWx0bzEQMA4GA1UECgwHV2VjaGF0eTELMAkGA1UECwwCQ0ExGDAW
BgNVBAMMD3dlY2hhdHktcm9vdC1jYTAeFw0yMTA4MDkxNTQ4NTJaFw0zMTA4MDcx
NTQ4NTJaMHIxCzAJBgNVBAYTAlVTMRYwFAYDVQQIDA1TYW4gRnJhbmNpc2NvMRIw
EAYDVQQHDAlQYWxvIEFsdG8xEDAOBgNVBAoMB1dlY2hhdHkxCzAJBgNVBAsMAkNB
MRgwFgYDVQQDDA93ZWNoYXR5LXJvb3QtY2EwggIiMA0GCSqGSIb3DQEBAQUAA4IC
DwAwggIKAoICAQDulLjOZhzQ58TSQ7TfWNYgdtWhlc+5L9MnKb1nznVRhzAkZo3Q
rPLRW/HDjlv2OEbt4nFLaQgaMmc1oJTUVGDBDlrzesI/lJh7z4eA/B0z8eW7f6Cw
/TGc8lgzHvq7UIE507QYPhvfSejfW4Prw+90HJnuodriPdMGS0n9AR37JPdQm6sD
iMFeEvhHmM2SXRo/o7bll8UDZi81DoFu0XuTCx0esfCX1W5QWEmAJ5oAdjWxJ23C
lxI1+EjwBQKXGqp147VP9+pwpYW5Xxpy870kctPBHKjCAti8Bfo+Y6dyWz2UAd4w
4BFRD+18C/TgX+ECl1s9fsHMY15JitcSGgAIz8gQX1OelECaTMRTQfNaSnNW4LdS
sXMQEI9WxAU/W47GCQFmwcJeZvimqDF1QtflHSaARD3O8tlbduYqTR81LJ63bPoy
9e1pdB6w2bVOTlHunE0YaGSJERALVc1xz40QpPGcZ52mNCb3PBg462RQc77yv/QB
x/P2RC1y0zDUF2tP9J29gTatWq6+D4MhfEk2flZNyzAgJbDuT6KAIJGzOB1ZJ/MG
o1gS13eTuZYw24LElrhd1PrR6OHK+lkyYzqUPYMulUg4HzaZIDclfHKwAC4lecKm
zC5q9jJB4m4SKMKdzxvpIOfdahoqsZMg34l4AavWRqPTpwEU0C0dboNA/QIDAQAB
o1MwUTAdBgNVHQ4EFgQU0rey3QPklTOgdhMJ9VIA6KbZ5bAwHwYDVR0jBBgwFoAU
0rey3QPklTOgdhMJ9VIA6KbZ5bAwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0B
AQsFAAOCAgEAx2uyShx9kLoB1AJ8x7Vf95v6PX95L/4JkJ1WwzJ9Dlf3BcCI7VH7
Fp1dnQ6Ig7mFqSBDBAUUBWAptAnuqIDcgehI6XAEKxW8ZZRxD877pUNwZ/45tSC4
b5U5y9uaiNK7oC3LlDCsB0291b3KSOtevMeDFoh12LcliXAkdIGGTccUxrH+Cyij
cBOc+EKGJFBdLqcjLDU4M6QdMMMFOdfXyAOSpYuWGYqrxqvxQjAjvianEyMpNZWM
lajggJqiPhfF67sZTB2yzvRTmtHdUq7x+iNOVonOBcCHu31aGxa9Py91XEr9jaIQ
EBdl6sycLxKo8mxF/5tyUOns9+919aWNqTOUBmI15D68bqhhOVNyvsb7aVURIt5y
6A7Sj4gSBR9P22Ba6iFZgbvfLn0zKLzjlBonUGlSPf3rSIYUkawICtDyYPvK5mi3
mANgIChMiOw6LYCPmmUVVAWU/tDy36kr9ZV9YTIZRYAkWswsJB340whjuzvZUVaG
DgW45GPR6bGIwlFZeqCwXLput8Z3C8Sw9bE9vjlB2ZCpjPLmWV/WbDlH3J3uDjgt
9PoALW0sOPhHfYklH4/rrmsSWMYTUuGS/HqxrEER1vpIOOb0hIiAWENDT/mruq22
VqO8MHX9ebjInSxPmhYOlrSZrOgEcogyMB4Z0SOtKVqPnkWmdR5hatU=
-----END CERTIFICATE-----
"""


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
        logger.addFilter(SECRETS)
    # Its WARNING "there are endpoint<...> and token<...>" would log the token.
    logging.getLogger("PuppetService").setLevel(logging.ERROR)


# ---- secrets never logged -------------------------------------------------------------------

class SecretFilter(logging.Filter):
    """Blanks registered secrets (gateway tokens) in every record of the loggers it sits on,
    tracebacks included (those are rendered here, so no formatter can print them raw)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self.redact(message), ()
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "levelname", "pathname", "filename",
                                                      "module", "funcName", "processName", "threadName"):
                setattr(record, key, self.redact(value))
        return True


SECRETS = SecretFilter()
MIN_SECRET = 6  # shorter strings cannot be blanked without garbling every log line
QUIET_LOGGERS = ("hpack", "h2")  # at DEBUG they log every HTTP/2 header: :authority is the token


def keep_secret(secret: str | None) -> None:
    """Never log `secret` (a gateway token) from this module, the transport, grpclib or the SDK."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    if secret and len(secret) >= MIN_SECRET:
        SECRETS.secrets.add(secret)
        for name in (__name__, "bot.wechaty_transport", "grpclib", "grpclib.client", "grpclib.protocol"):
            logger = logging.getLogger(name)
            if SECRETS not in logger.filters:
                logger.addFilter(SECRETS)


def redact(text: str) -> str:
    return SECRETS.redact(text)


# ---- options and SDK state ------------------------------------------------------------------

def make_options(endpoint: str, token: str, web_port: int, name: str = "jingmin", puppet: Any = None) -> Any:
    """WechatyOptions for a puppet-service endpoint (host:port).

    - A fresh PuppetOptions each time: the dataclass default instance is shared by all options.
    - puppet: a GatewayPuppet to use (Wechaty keeps it across reconnects); None: the SDK's own
      PuppetService (plain gRPC, Stop before Start).
    - web_port: the SDK checks it at login and, if taken, login fails silently (an exception in a
      listener). The web server itself only starts when a plugin registers a blueprint.
    - scheduler: the SDK calls scheduler.start() on every login; a second login (reconnect)
      would raise SchedulerAlreadyRunningError and silently skip on_login. Ours starts once,
      and keeps jobs in memory instead of the SDK's default SQLite file in CACHE_DIR.
    """
    prepare()
    from wechaty import WechatyOptions
    from wechaty_puppet import PuppetOptions

    options = PuppetOptions(token=token, end_point=endpoint)
    if puppet is not None:
        puppet.options = options
    return WechatyOptions(
        name=name,
        puppet=puppet if puppet is not None else "wechaty-puppet-service",
        puppet_options=options,
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


def forget_cached(kind: str, object_id: str) -> None:
    """A dirty event: the next load of this contact or room asks the gateway again."""
    from wechaty.user import Contact, Room

    pool = {"contact": Contact._pool, "room": Room._pool}.get(kind)
    if pool is not None:
        pool.pop(object_id, None)


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


async def endpoint_reachable(endpoint: str, timeout: float = 3.0) -> bool:
    """Check before bot.start(): on an unreachable endpoint the SDK calls loop.stop(), which
    kills the whole event loop (and every other task of the process) instead of raising."""
    host, port = split_endpoint(endpoint)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


# ---- TLS as a 1.x Node client speaks it -------------------------------------------------------

@dataclass(frozen=True)
class GatewayTLS:
    """How to reach the gateway (config `wechat.tls*`).

    enabled: True TLS, False plain gRPC (0.2x services, the simulator), None auto: a TLS
    handshake is tried before each connect and TLS is used if the service answers it.
    server_name: the name the certificate must carry; None: as Node clients do, the token's
    prefix before its last "_" ("insecure_<uuid>" -> "insecure"), else the endpoint's host name.
    ca_file: trusted CA (PEM); None: the system's, plus the wechaty root CA when the name is
    "insecure" (the certificate every 1.x service has built in). skip_verify: trust any certificate.
    """

    enabled: bool | None = None
    ca_file: str | None = None
    server_name: str | None = None
    skip_verify: bool = False

    def name_for(self, token: str, host: str) -> str:
        if self.server_name:
            return self.server_name
        cut = token.rfind("_")
        if cut > 0:
            return token[:cut].lower()
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            raise GatewayTLSError("the gateway token has no server-name prefix (like insecure_…) and the "
                                  "endpoint is an IP address: set wechat.tls_server_name")
        return host

    def context(self, server_name: str) -> ssl.SSLContext:
        if self.skip_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_file:
            try:
                ctx = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as error:
                raise GatewayTLSError(f"cannot read wechat.tls_ca_file {self.ca_file}: {error}") from None
        else:
            ctx = ssl.create_default_context()
            if server_name == "insecure":
                ctx.load_verify_locations(cadata=WECHATY_ROOT_CA)
        ctx.set_alpn_protocols(["h2"])
        return ctx


class GatewayTLSError(Exception):
    """The TLS settings cannot work (no name to check, unreadable CA file)."""


async def speaks_tls(host: str, port: int, server_name: str | None = None, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether the service at host:port answers a TLS handshake (certificate not checked here:
    a TLS service with a certificate we do not trust must fail as such, not fall back to plain).
    server_name: the SNI to send (a proxy may route by it)."""
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    probe.set_alpn_protocols(["h2"])
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=probe, server_hostname=server_name or host), timeout)
    except (ssl.SSLError, ConnectionResetError, asyncio.IncompleteReadError, EOFError):
        return False  # a plain HTTP/2 server answers a ClientHello with a GOAWAY or a reset
    except asyncio.TimeoutError:
        raise ConnectionError(f"no answer from {host}:{port} within {timeout:.0f} s") from None
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return True


async def open_channel(endpoint: str, token: str, tls: GatewayTLS) -> tuple[Any, bool]:
    """A grpclib Channel to the gateway, the token as `:authority` (what 0.2x services read; 1.x
    takes it there too). Returns the channel and whether it is TLS."""
    from grpclib.client import Channel
    from grpclib.config import Configuration

    host, port = split_endpoint(endpoint)
    use_tls = tls.enabled
    if use_tls is None:
        try:
            probe_name: str | None = tls.name_for(token, host)
        except GatewayTLSError:
            probe_name = None
        use_tls = await speaks_tls(host, port, probe_name)
    if use_tls:
        name = tls.name_for(token, host)
        channel = Channel(host, port, ssl=tls.context(name), config=Configuration(ssl_target_name_override=name))
    else:
        channel = Channel(host, port)
    channel._authority = token  # noqa: SLF001 - grpclib==0.4.9 is pinned; how the SDK sends it
    return channel, use_tls


# ---- the Event stream, in every shape the gateways send ----------------------------------------

class EventUnreadable(Exception):
    """An event whose payload this bot cannot read; dropped, the stream goes on."""


class EventUnknown(EventUnreadable):
    """An event type this bot does not know (a newer gateway's); dropped."""


def _payload_dict(event_type: int, raw: str) -> dict:
    if not raw or not raw.strip():
        return {}  # 0.2x sends an event emitted without payload as ""
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise EventUnreadable(f"payload is not JSON ({error})") from None
    if isinstance(data, str):
        return {"data": data}  # 1.x logout/ready reasons may come as a bare string
    if not isinstance(data, dict):
        raise EventUnreadable(f"payload is a JSON {type(data).__name__}, not an object")
    return data


def error_text(payload: dict) -> str:
    """What an error event says, in one line: 0.2x {"data": "..."}, 1.x {"gerror": "<GError
    JSON>"} (its `message`; its `details` carry the service's stack trace), {} or "" (none)."""
    if "gerror" in payload:
        gerror = payload["gerror"]
        with contextlib.suppress(ValueError, TypeError):
            gerror = json.loads(gerror) if isinstance(gerror, str) else gerror
        if isinstance(gerror, dict):
            text = str(gerror.get("message") or gerror.get("details") or "")
        else:
            text = str(gerror)
    else:
        text = str(payload.get("data") or payload.get("message") or "")
    text = text.strip().splitlines()[0] if text.strip() else ""
    if text in ("undefined", "null", "{}"):  # what 1.x makes of an error emitted without payload
        text = ""
    return text[:300] or "(no details)"


def _require(payload: dict, key: str) -> Any:
    value = payload.get(key)
    if not value:
        raise EventUnreadable(f"no {key}")
    return value


def parse_event(event_type: int, raw: str) -> tuple[str, Any] | None:
    """One Event-stream response as (event name, SDK payload); None for an event type this bot
    does not know. Raises EventUnreadable for a payload it cannot use."""
    from wechaty_grpc.wechaty.puppet import EventType
    from wechaty_puppet import (
        EventDongPayload, EventErrorPayload, EventFriendshipPayload, EventHeartbeatPayload, EventLoginPayload,
        EventLogoutPayload, EventMessagePayload, EventReadyPayload, EventRoomInvitePayload, EventRoomJoinPayload,
        EventRoomLeavePayload, EventRoomTopicPayload, EventScanPayload, ScanStatus,
    )

    try:
        kind = EventType(event_type)
    except ValueError:
        return None
    p = _payload_dict(event_type, raw)
    if kind == EventType.EVENT_TYPE_MESSAGE:
        return "message", EventMessagePayload(message_id=_require(p, "messageId"))
    if kind == EventType.EVENT_TYPE_HEARTBEAT:
        return "heartbeat", EventHeartbeatPayload(data=str(p.get("data") or ""))
    if kind == EventType.EVENT_TYPE_DONG:
        return "dong", EventDongPayload(data=str(p.get("data") or ""))
    if kind == EventType.EVENT_TYPE_ERROR:
        return "error", EventErrorPayload(data=error_text(p))
    if kind == EventType.EVENT_TYPE_READY:
        return "ready", EventReadyPayload(data=str(p.get("data") or ""))
    if kind == EventType.EVENT_TYPE_LOGIN:
        return "login", EventLoginPayload(contact_id=_require(p, "contactId"))
    if kind == EventType.EVENT_TYPE_LOGOUT:
        return "logout", EventLogoutPayload(contact_id=p.get("contactId") or "", data=str(p.get("data") or ""))
    if kind == EventType.EVENT_TYPE_DIRTY:
        return "dirty", (int(p.get("payloadType") or 0), str(p.get("payloadId") or ""))
    if kind == EventType.EVENT_TYPE_RESET:
        return "reset", str(p.get("data") or "")
    if kind == EventType.EVENT_TYPE_FRIENDSHIP:
        return "friendship", EventFriendshipPayload(friendship_id=_require(p, "friendshipId"))
    if kind == EventType.EVENT_TYPE_ROOM_JOIN:
        return "room-join", EventRoomJoinPayload(
            invited_ids=list(p.get("inviteeIdList") or []), inviter_id=p.get("inviterId") or "",
            room_id=_require(p, "roomId"), timestamp=p.get("timestamp") or 0)
    if kind == EventType.EVENT_TYPE_ROOM_LEAVE:
        return "room-leave", EventRoomLeavePayload(
            removed_ids=list(p.get("removeeIdList") or []), remover_id=p.get("removerId") or "",
            room_id=_require(p, "roomId"), timestamp=p.get("timestamp") or 0)
    if kind == EventType.EVENT_TYPE_ROOM_TOPIC:
        return "room-topic", EventRoomTopicPayload(
            changer_id=p.get("changerId") or "", new_topic=p.get("newTopic") or "", old_topic=p.get("oldTopic") or "",
            room_id=_require(p, "roomId"), timestamp=p.get("timestamp") or 0)
    if kind == EventType.EVENT_TYPE_ROOM_INVITE:
        return "room-invite", EventRoomInvitePayload(room_invitation_id=_require(p, "roomInvitationId"))
    if kind == EventType.EVENT_TYPE_SCAN:
        try:
            status = ScanStatus(int(p.get("status") or 0))
        except ValueError:
            status = ScanStatus.Unknown
        return "scan", EventScanPayload(status=status, qrcode=p.get("qrcode"), data=p.get("data"))
    return None  # EVENT_TYPE_UNSPECIFIED


# ---- FileBoxes as both generations send them ---------------------------------------------------

# file-box's FileBoxType numbers (both generations)
BOX_BASE64, BOX_URL, BOX_QR, BOX_BUFFER, BOX_FILE, BOX_STREAM, BOX_UUID = 1, 2, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class FileBoxRef:
    """Where a FileBox's bytes are: inline base64, a URL (with headers), a QR code's text, or a
    UUID only the gateway's Download RPC serves."""

    kind: int
    name: str
    base64: str = ""
    url: str = ""
    headers: dict = field(default_factory=dict)
    qr_code: str = ""
    uuid: str = ""


class FileBoxUnreadable(Exception):
    pass


def read_file_box(text: str) -> FileBoxRef:
    """0.2x: {"boxType": 1|2|3, "base64" | "remoteUrl"+"headers" | "qrCode", "name"};
    1.x: {"type": 1|2|3|7, "base64" | "url"+"headers" | "qrCode" | "uuid", "name", "size", ...}."""
    try:
        box = json.loads(text) if text else {}
    except ValueError as error:
        raise FileBoxUnreadable(f"the gateway's FileBox is not JSON ({error})") from None
    if not isinstance(box, dict):
        raise FileBoxUnreadable("the gateway's FileBox is not a JSON object")
    kind = box.get("boxType", box.get("type"))
    name = str(box.get("name") or "")
    if kind in (BOX_BASE64, BOX_BUFFER) or (kind is None and box.get("base64")):
        return FileBoxRef(BOX_BASE64, name, base64=str(box.get("base64") or box.get("buffer") or ""))
    if kind == BOX_URL or (kind is None and (box.get("url") or box.get("remoteUrl"))):
        url = str(box.get("url") or box.get("remoteUrl") or "")
        if not url:
            raise FileBoxUnreadable("the gateway's URL FileBox has no URL")
        headers = box.get("headers") if isinstance(box.get("headers"), dict) else {}
        return FileBoxRef(BOX_URL, name, url=url, headers={str(k): str(v) for k, v in headers.items()})
    if kind == BOX_QR:
        return FileBoxRef(BOX_QR, name or "qrcode.png", qr_code=str(box.get("qrCode") or ""))
    if kind == BOX_UUID:
        return FileBoxRef(BOX_UUID, name, uuid=str(box.get("uuid") or ""))
    raise FileBoxUnreadable(f"the gateway sent a FileBox of type {kind!r}, which it cannot hand over")


def qr_code_png(text: str) -> bytes:
    import io

    import qrcode  # a dependency of the SDK (its FileBox draws QR codes the same way)

    out = io.BytesIO()
    qrcode.make(text).save(out, format="PNG")
    return out.getvalue()


# ---- the puppet, as a production client -------------------------------------------------------

class ReconnectRequested(Exception):
    """The transport ended a stream on purpose (watchdog)."""


class FileTooLarge(Exception):
    pass


def _download_messages() -> tuple[type, type]:
    """wechaty-grpc 1.x `Download(DownloadRequest{id}) returns (stream DownloadResponse{chunk})`,
    absent from the Python stubs (wechaty-grpc 0.20)."""
    import betterproto

    @dataclass
    class DownloadRequest(betterproto.Message):
        id: str = betterproto.string_field(1)

    @dataclass
    class DownloadResponse(betterproto.Message):
        chunk: bytes = betterproto.bytes_field(1)

    return DownloadRequest, DownloadResponse


def gateway_puppet_class() -> type:
    """GatewayPuppet is built on first use: PuppetService exists only after prepare()."""
    global _GATEWAY_PUPPET
    if _GATEWAY_PUPPET is None:
        _GATEWAY_PUPPET = _build_gateway_puppet()
    return _GATEWAY_PUPPET


_GATEWAY_PUPPET: type | None = None


def _build_gateway_puppet() -> type:
    prepare()
    from wechaty_grpc.wechaty import PuppetStub
    from wechaty_puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService

    download_types = _download_messages()

    class GatewayPuppet(PuppetService):
        """PuppetService with a production client's connection: TLS when the gateway speaks it,
        Start without Stop, an Event stream that never dies of a payload, a reconnect on request.

        on_activity(): called for every response on the Event stream (the watchdog's food).
        on_unreadable(event_type, error): an event that was dropped."""

        def __init__(self, tls: GatewayTLS, on_activity: Callable[[], None] | None = None,
                     on_unreadable: Callable[[int, Exception], None] | None = None) -> None:
            super().__init__(PuppetOptions(token="-", end_point="-"))  # make_options sets the real ones
            self.tls = tls
            self.uses_tls: bool | None = None
            self.on_activity = on_activity or (lambda: None)
            self.on_unreadable = on_unreadable or (lambda event_type, error: None)
            self.logged_in_once = False  # during this connection
            self._reconnect: asyncio.Future | None = None

        async def start(self) -> None:
            """Connect, Start the remote puppet and read the Event stream until it ends.

            No Stop first (the SDK's PuppetService sends one): Stop logs the remote puppet out and
            ends whichever stream is open, so each reconnect restarted it and two clients of one
            service took turns. Start on a running puppet is a no-op on both generations; the new
            stream then brings a login event."""
            self.logged_in_once = False
            self.channel, self.uses_tls = await open_channel(self.options.end_point, self.options.token, self.tls)
            self._puppet_stub = PuppetStub(self.channel, metadata={"authorization": f"Wechaty {self.options.token}"})
            await asyncio.wait_for(self.puppet_stub.start(), START_TIMEOUT)
            self._reconnect = asyncio.get_running_loop().create_future()
            listen = asyncio.ensure_future(self._listen_for_event())
            try:
                await asyncio.wait({listen, self._reconnect}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not listen.done():
                    listen.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await listen
            if listen.done() and not listen.cancelled():
                return listen.result()  # the stream ended (cleanly or with its error)
            raise ReconnectRequested(self._reconnect.result())

        def request_reconnect(self, reason: str) -> None:
            if self._reconnect is not None and not self._reconnect.done():
                self._reconnect.set_result(reason)

        async def stop(self) -> None:
            """Close the connection; the remote puppet keeps running (no Stop RPC, see start())."""
            self._event_stream.remove_all_listeners()
            self._puppet_stub = None
            if self.channel is not None:
                self.channel.close()
                self.channel = None

        async def _listen_for_event(self) -> None:
            async for response in self.puppet_stub.event():
                if response is None:
                    continue
                self.on_activity()
                try:
                    parsed = parse_event(response.type, response.payload)
                except EventUnreadable as error:
                    self.on_unreadable(response.type, error)
                    continue
                if parsed is None:
                    self.on_unreadable(response.type, EventUnknown("an event type this bot does not know"))
                    continue
                name, payload = parsed
                if name == "login":
                    self.login_user_id = payload.contact_id
                    self.logged_in_once = True
                elif name == "logout":
                    self.login_user_id = None
                self._event_stream.emit(name, payload)

        async def download(self, uuid: str, max_bytes: int, timeout: float) -> bytes:
            """The bytes of a 1.x UUID FileBox (Download RPC); FileTooLarge past max_bytes."""
            from grpclib.const import Cardinality

            request_type, response_type = download_types
            data = bytearray()
            async with self.channel.request("/wechaty.Puppet/Download", Cardinality.UNARY_STREAM, request_type,
                                            response_type, timeout=timeout,
                                            metadata={"authorization": f"Wechaty {self.options.token}"}) as stream:
                await stream.send_message(request_type(id=uuid), end=True)
                async for reply in stream:
                    data += reply.chunk
                    if len(data) > max_bytes:
                        await stream.cancel()
                        raise FileTooLarge(f"larger than {max_bytes // 1024} KB")
            return bytes(data)

    return GatewayPuppet


def new_gateway_puppet(tls: GatewayTLS, **hooks: Any) -> Any:
    return gateway_puppet_class()(tls, **hooks)


# ---- why a connection ended ---------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    kind: str  # refused | busy | tls | lost | watchdog | closed | bug
    line: str  # one line for the operator, token-free
    expected: bool = True  # False: a bug of ours or of the SDK (log the traceback)


def classify_failure(error: BaseException | None) -> Failure:
    """What ended a connection attempt, for one clear log line. Never quotes a gRPC error's
    text for a refused token: a 1.x gateway repeats the wrong token in it."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError
    from wechaty_puppet import WechatyPuppetError

    if error is None:
        return Failure("closed", "the gateway ended the event stream")
    if isinstance(error, ReconnectRequested):
        return Failure("watchdog", str(error))
    if isinstance(error, GRPCError):
        if error.status in (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED):
            return Failure("refused", "the WeChat gateway refused the token")
        if error.status == Status.ALREADY_EXISTS:
            return Failure("busy", "the WeChat gateway already serves another client on this token "
                                   "(one event stream at a time)")
        if error.status == Status.UNAVAILABLE:
            return Failure("lost", f"the gateway is unavailable: {redact(str(error.message or ''))[:200]}")
        return Failure("lost", f"the gateway answered {error.status.name}: {redact(str(error.message or ''))[:200]}")
    if isinstance(error, GatewayTLSError):
        return Failure("tls", str(error))
    if isinstance(error, ssl.SSLCertVerificationError):
        return Failure("tls", f"the gateway's TLS certificate is not trusted ({error.verify_message}); set "
                              "wechat.tls_ca_file or wechat.tls_server_name, or wechat.tls_skip_verify")
    if isinstance(error, ssl.SSLError):
        return Failure("tls", f"TLS with the gateway failed ({error.reason or error}); "
                              "a 0.2x service speaks plain gRPC: set wechat.tls: false")
    if isinstance(error, (StreamTerminatedError, ProtocolError)):
        return Failure("lost", f"connection lost ({error})")
    if isinstance(error, (OSError, asyncio.TimeoutError, EOFError)):
        return Failure("lost", f"connection failed ({type(error).__name__}: {redact(str(error))[:200]})")
    if isinstance(error, WechatyPuppetError):
        return Failure("lost", f"the SDK gave up: {redact(str(error))[:200]}")
    return Failure("bug", f"{type(error).__name__}: {redact(str(error))[:200]}", expected=False)


# ---- running and stopping --------------------------------------------------------------------

async def stop_bot(bot: Any, start_task: asyncio.Task | None) -> None:
    """Stop a bot whose start() runs as `start_task`. start() never returns while connected,
    so cancel it first; bot.stop() then closes the channel (the SDK's PuppetService also sends
    Stop; errors ignored: the service may already be gone)."""
    if start_task is not None and not start_task.done():
        start_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await start_task
    with contextlib.suppress(Exception):
        if bot._puppet is not None:  # noqa: SLF001 - stop() fails on an already stopped bot
            await bot.stop()


async def run_with_reconnect(bot: Any, first_delay: float = 0.5, max_delay: float = 30.0,
                             on_drop: Callable[[BaseException | None, float], Any] | None = None) -> None:
    """Run `bot` until cancelled, reconnecting with backoff whenever the Event stream ends.

    Use this instead of bot.start(). Wechaty.start() on a dropped stream sleeps a fixed 60 s,
    retries once and, if the service is still down then, dies with the exception; on a stream
    the service ends cleanly it returns as if all were well; on an unreachable endpoint it calls
    loop.stop(). These are the steps of Wechaty.start() without that handling. Every exception
    but cancellation ends one attempt, never the loop. The same puppet instance is reused, so
    objects the SDK cached stay usable.
    `on_drop(error, delay)`, if given, is told every ended attempt before waiting `delay` s;
    without it each is logged here (one line, token-free)."""
    delay = first_delay
    while True:
        puppet = None
        dropped: BaseException | None = None
        try:
            await bot.init_puppet()
            puppet = bot.puppet
            puppet.login_user_id = None
            await bot.init_puppet_event_bridge(puppet)
            await puppet.start()  # returns when the stream ends, raises when it drops
        except asyncio.CancelledError:
            raise  # stop_bot() closes the connection: bot.stop() lets calls in flight finish first
        except Exception as error:  # noqa: BLE001 - the loop must outlive anything one attempt raises
            dropped = error
        if puppet is not None and (getattr(puppet, "logged_in_once", False) or puppet.login_user_id):
            delay = first_delay  # it was connected: retry quickly
        drop_connection(puppet)
        if on_drop is not None:
            on_drop(dropped, delay)
        else:
            failure = classify_failure(dropped)
            log.warning("puppet service connection ended: %s; retrying in %.1f s", failure.line, delay,
                        exc_info=dropped if not failure.expected else None)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def drop_connection(puppet: Any) -> None:
    """What PuppetService.stop() does, minus its Stop RPC, which fails when the service is gone
    and then leaves the channel open (and would stop the remote puppet)."""
    if puppet is None:
        return
    puppet._event_stream.remove_all_listeners()  # noqa: SLF001 - wechaty-puppet-service pinned
    if puppet.channel is not None:
        puppet.channel.close()
        puppet.channel = None
    puppet._puppet_stub = None  # noqa: SLF001
