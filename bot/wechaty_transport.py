"""The core's Transport over the real wechaty SDK (a puppet service gives the WeChat account).

- Events: message, room-join, room-leave, room-topic, friendship, room-invite become the core's
  dataclasses. Login, logout, error, heartbeat, dong, dirty, ready, scan and unknown events are
  handled here, every time they come (the SDK's own bridge handles a login once per stream and
  never sees a heartbeat): we do not use the SDK's bridge at all.
- Order: each event is noted in arrival order and converted (a message needs more RPCs), at
  most CONVERT_AT_ONCE at a time, the others waiting their turn; as each conversion finishes,
  every finished one at the head of the line is handed on, in that order, to one queue per chat
  (a room, or a private contact), drained by one task per chat. Chats proceed in parallel, each
  in arrival order. An event stuck loading for convert_timeout (from when it began loading) is
  given up, counted as dropped, so those behind it move on; many stuck at once go together.
- Never deaf: an event the gateway sends in a shape nobody expected is dropped and counted
  (wechaty_compat.parse_event), not the stream; every exception of a connection attempt ends
  that attempt, is logged once with its cause (one line per cause and outage, no token) and is
  followed by a reconnect with backoff (wechaty_compat.run_with_reconnect). Should the loop
  itself end, it is logged, /healthz says so, and it is started again.
- Watchdog: no event or heartbeat for `watchdog_seconds` -> a ding; still nothing
  `dong_wait` later -> reconnect. Times come from the injected clock.
- Connection changes: `on_connection_change(up, outage)`; `outage` is how long the connection
  was down (a timedelta) when it comes back after having been up, else None. While down
  `connected` is False.
- Attachments: base64, URL (downloaded with aiohttp), QR code and 1.x UUID FileBoxes (the
  Download RPC), size-capped and timed out; a failure is logged and put on the message
  (`attachment_error`), so a dialog can tell the resident.
- Send goes straight to the puppet (one RPC): Room.say() would add a MessagePayload RPC after
  the send, whose failure would make the outbox resend a message that did go out.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import inspect
import json
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from bot import metrics
from bot.clock import Clock, SystemClock
from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, MessageKind, Outgoing, RoomInvitation, RoomRenamed,
)
from bot.transport import EventSink, RoomInfo, Transport, TransportError
from bot.wechaty_compat import (
    BOX_BASE64, BOX_QR, BOX_URL, BOX_UUID, EventUnknown, FileBoxRef, FileBoxUnreadable, FileTooLarge, GatewayTLS,
    classify_failure, drop_connection, endpoint_reachable, forget_cached, free_tcp_port, keep_secret, make_options,
    new_gateway_puppet, prepare, qr_code_png, read_file_box, redact, run_with_reconnect, stop_bot,
)

log = logging.getLogger(__name__)

MAX_ATTACHMENT = 10 * 1024 * 1024
ATTACHMENT_TIMEOUT = 30.0
CONVERT_TIMEOUT = 30.0  # seconds one event may take to load (plus the attachment timeout)
# Events loading at once. A gateway takes ~100 streams on one connection (HTTP/2
# max_concurrent_streams); past that grpclib wakes every waiting RPC each time one stream ends
# (O(n^2) on a burst of n messages: more than half the CPU on 5,000 at once), and the sends wait in
# the same crowd. Below it, a burst loads in order, a slot at a time, and a reply finds a stream.
CONVERT_AT_ONCE = 32
WATCH_INTERVAL = 1.0
AT_SEPARATOR = "\u2005"  # WeChat puts a four-per-em space after an @name
FATAL_AT_START = ("refused", "tls")  # no use waiting for a login

# wechaty_puppet.MessageType names -> the core's kinds
_KINDS = {
    "MESSAGE_TYPE_TEXT": MessageKind.TEXT, "MESSAGE_TYPE_IMAGE": MessageKind.IMAGE,
    "MESSAGE_TYPE_ATTACHMENT": MessageKind.FILE, "MESSAGE_TYPE_AUDIO": MessageKind.VOICE,
    "MESSAGE_TYPE_VIDEO": MessageKind.VIDEO, "MESSAGE_TYPE_URL": MessageKind.LINK,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageKind.MINI_PROGRAM, "MESSAGE_TYPE_RECALLED": MessageKind.RECALL,
    "MESSAGE_TYPE_EMOTICON": MessageKind.EMOTICON,
}
_ORDERED_EVENTS = ("message", "room-join", "room-leave", "room-topic", "friendship", "room-invite")
_DIRTY_KINDS = {2: "contact", 3: "room", 4: "room"}  # PayloadType: CONTACT, ROOM, ROOM_MEMBER


class AttachmentError(Exception):
    """Why an image or file could not be fetched (one line, for the log and the message)."""


class WechatyTransport(Transport):
    def __init__(self, endpoint: str | None, token: str | None, *, now: Callable[[], datetime] | None = None,
                 clock: Clock | None = None, web_port: int | None = None, name: str = "jingmin",
                 login_timeout: float = 20.0, first_delay: float = 0.5, max_delay: float = 30.0,
                 tls: GatewayTLS | None = None, watchdog_seconds: float = 60.0,
                 attachment_max_bytes: int = MAX_ATTACHMENT, attachment_timeout: float = ATTACHMENT_TIMEOUT) -> None:
        self.endpoint = endpoint
        self.token = token
        self._clock = clock or SystemClock()
        self._now = now or self._clock.now
        self._web_port = web_port
        self._name = name
        self._login_timeout = login_timeout
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._tls = tls or GatewayTLS()
        self._watchdog_seconds = watchdog_seconds
        self._dong_wait = min(watchdog_seconds, 10.0)
        self._attachment_max = attachment_max_bytes
        self._attachment_timeout = attachment_timeout
        self._convert_timeout = CONVERT_TIMEOUT + attachment_timeout
        self._sink: EventSink | None = None
        self._bot: Any = None
        self._gateway: Any = None
        self._http: Any = None
        self._task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()  # watchers, login lookups
        self._restart: asyncio.TimerHandle | None = None
        self._stopping = False
        self._connected = False
        self._ever_up = False
        self._settled = asyncio.Event()  # start(): logged in, or a failure not worth waiting on
        self._fatal: str | None = None
        self._down_since: datetime | None = None
        self._down_why = "not started"
        self._loop_problem: str | None = None
        self._last_failure: str | None = None  # logged in this outage
        self._unknown_types: set[int] = set()
        self._heard = 0  # responses on the Event stream, for the watchdog
        self._heard_at: datetime = self._clock.now()
        self._arrivals: collections.deque[asyncio.Future] = collections.deque()
        self._convert_slots = asyncio.Semaphore(CONVERT_AT_ONCE)  # FIFO: arrival order
        self._loading: dict[asyncio.Task, float] = {}  # conversion -> when it took its slot (loop time)
        self._chats: dict[str, collections.deque] = {}
        self._chat_tasks: set[asyncio.Task] = set()
        self.on_connection_change: Callable[[bool, timedelta | None], Any] | None = None
        self.last_event_at: datetime | None = None
        self.last_heartbeat_at: datetime | None = None
        self.last_outage: timedelta | None = None
        self.uses_tls: bool | None = None
        self.logins = 0
        self.inflight = 0  # events arrived and not yet handled by the sink

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self, sink: EventSink) -> None:
        if not self.endpoint:
            raise TransportError("no WeChat gateway configured: set wechat.endpoint or WECHATY_PUPPET_SERVICE_ENDPOINT")
        if not self.token:
            raise TransportError("no gateway token: set wechat.token or WECHATY_PUPPET_SERVICE_TOKEN")
        keep_secret(self.token)
        if not await endpoint_reachable(self.endpoint):
            raise TransportError(f"cannot reach the WeChat gateway at {self.endpoint}")
        prepare()
        import aiohttp

        self._sink = sink
        self._stopping = False
        self._settled.clear()
        self._fatal = self._last_failure = None
        self._http = aiohttp.ClientSession()
        self._gateway = new_gateway_puppet(self._tls, on_activity=self._heard_from_gateway,
                                           on_unreadable=self._unreadable)
        options = make_options(self.endpoint, self.token, self._web_port or free_tcp_port(), name=self._name,
                               puppet=self._gateway)
        self._bot = _make_bot(options, self)
        self._keep(self._watch_conversions(), "wechaty-convert-watch")
        if self._watchdog_seconds > 0:
            self._keep(self._watch_silence(), "wechaty-silence-watch")
        self._start_loop()
        log.info("connecting to the WeChat gateway", extra={"endpoint": self.endpoint})
        try:
            await asyncio.wait_for(self._settled.wait(), self._login_timeout)
        except asyncio.TimeoutError:
            why = self._last_failure
            await self.stop()
            raise TransportError(f"the WeChat gateway at {self.endpoint} did not log in within "
                                 f"{self._login_timeout:.0f} s" + (f" ({why})" if why else "")) from None
        except BaseException:  # cancelled while waiting: leave nothing running
            await asyncio.shield(self.stop())
            raise
        if self._fatal is not None:
            fatal = self._fatal
            await self.stop()
            raise TransportError(fatal)

    async def stop(self) -> None:
        self._stopping = True
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        if self._bot is not None:
            await stop_bot(self._bot, self._task)
        tasks = [*self._tasks, *self._chat_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for fut in self._arrivals:
            fut.cancel()
        self._arrivals.clear()
        if self._http is not None:
            await self._http.close()
        self._bot = self._task = self._gateway = self._http = None
        self._sink = None
        self._set_connected(False, "stopped")

    def _keep(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _start_loop(self) -> None:
        self._loop_problem = None
        self._task = asyncio.create_task(
            run_with_reconnect(self._bot, self._first_delay, self._max_delay, on_drop=self._dropped),
            name="wechaty-bot")
        self._task.add_done_callback(self._loop_ended)

    def _loop_ended(self, task: asyncio.Task) -> None:
        """run_with_reconnect never returns; if it ended anyway, say so and run it again."""
        if self._stopping or task is not self._task:
            return
        error = None if task.cancelled() else task.exception()
        cause = "cancelled" if task.cancelled() else (f"{type(error).__name__}: {error}" if error else "returned")
        delay = min(5.0, self._max_delay)
        self._loop_problem = f"the event loop ended ({cause}); restarting it in {delay:.0f} s"
        metrics.LOOP_RESTARTS.inc()
        log.error("the WeChat event loop ended: %s; restarting it in %.0f s", cause, delay,
                  exc_info=(type(error), error, error.__traceback__) if error else None)
        self._set_connected(False, self._loop_problem)
        self._restart = asyncio.get_running_loop().call_later(delay, self._restart_loop)

    def _restart_loop(self) -> None:
        self._restart = None
        if not self._stopping and self._bot is not None:
            with contextlib.suppress(Exception):
                drop_connection(self._bot.puppet)
            self._start_loop()

    def health(self) -> dict[str, Any]:
        """For /healthz: connected, and if not, why (a dead loop says so first)."""
        problem = self._loop_problem
        if problem is None and not self._connected:
            since = f" since {self._down_since.isoformat(timespec='seconds')}" if self._down_since else ""
            problem = f"disconnected{since}: {self._down_why}"
        return {
            "connected": self._connected and self._loop_problem is None,
            "problem": problem,
            "tls": self.uses_tls,
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else None,
            "last_heartbeat_at": self.last_heartbeat_at.isoformat() if self.last_heartbeat_at else None,
            "last_outage_seconds": round(self.last_outage.total_seconds(), 1) if self.last_outage else None,
        }

    def _set_connected(self, up: bool, why: str) -> None:
        if not up:
            self._down_why = why
        if up == self._connected:
            return
        self._connected = up
        outage = None
        if up:
            if self._ever_up and self._down_since is not None:
                outage = self._clock.now() - self._down_since
                self.last_outage = outage
                metrics.LAST_OUTAGE.set(outage.total_seconds())
            self._ever_up = True
            self._down_since = None
            self._last_failure = None
        else:
            self._down_since = self._clock.now()
        metrics.CONNECTED.set(1 if up else 0)
        after = f", after {outage.total_seconds():.0f} s" if outage is not None else ""
        log.log(logging.INFO if up else logging.WARNING, "WeChat gateway %s (%s%s)",
                "connected" if up else "disconnected", why, after, extra={"endpoint": self.endpoint})
        hook = self.on_connection_change
        if hook is not None:
            try:
                hook(up, outage) if _takes_two(hook) else hook(up)  # a hook of before outages: (up)
            except Exception:
                log.exception("connection change hook failed")

    def _dropped(self, error: BaseException | None, delay: float) -> None:
        """One connection attempt ended: one log line per cause and outage."""
        metrics.RECONNECTS.inc()  # first: the drop happened even if reading its cause fails
        failure = classify_failure(error)
        self._set_connected(False, failure.line)
        if not self._ever_up and failure.kind in FATAL_AT_START:
            self._fatal = failure.line  # start() raises it: no log line of its own
            self._settled.set()
            return
        if failure.line == self._last_failure:
            log.debug("still no WeChat gateway (%s); retrying in %.1f s", failure.line, delay)
            return
        self._last_failure = failure.line
        level = logging.ERROR if failure.kind in ("refused", "tls", "bug") else logging.WARNING
        trace = (type(error), error, error.__traceback__) if error is not None and not failure.expected else None
        log.log(level, "%s; reconnecting in %.1f s", failure.line, delay, extra={"endpoint": self.endpoint},
                exc_info=trace)

    # ---- what the gateway says about the connection ------------------------------------------

    def _heard_from_gateway(self) -> None:
        self._heard += 1
        self._heard_at = self._clock.now()
        self.last_event_at = self._heard_at
        metrics.LAST_EVENT.set(time.time())

    def _unreadable(self, event_type: int, error: Exception) -> None:
        unknown = isinstance(error, EventUnknown)
        metrics.DROPPED_EVENTS.labels("unknown" if unknown else "unreadable").inc()
        if unknown:
            if event_type in self._unknown_types:
                return  # once per type is enough
            self._unknown_types.add(event_type)
        log.warning("dropped an event from the WeChat gateway (type %s): %s", event_type, redact(str(error)))

    def _on_login(self, payload: Any) -> None:
        self.bot_id = payload.contact_id
        self.logins += 1
        self._heard_at = self._clock.now()
        self.uses_tls = getattr(self._gateway, "uses_tls", None)
        self._set_connected(True, f"logged in as {self.bot_id}")
        self._settled.set()
        self._keep(self._load_own_name(payload.contact_id), "wechaty-own-name")

    async def _load_own_name(self, contact_id: str) -> None:
        with contextlib.suppress(Exception):
            contact = self._bot.Contact.load(contact_id)
            await contact.ready()
            self.bot_name = contact.name or self.bot_name

    def _on_logout(self, payload: Any) -> None:
        self._set_connected(False, f"the account logged out ({redact(payload.data or 'no reason given')[:100]})")

    def _on_error(self, payload: Any) -> None:
        if isinstance(payload, BaseException):  # pyee hands a listener's exception to 'error'
            metrics.DROPPED_EVENTS.labels("listener").inc()
            log.error("an event listener failed", exc_info=(type(payload), payload, payload.__traceback__))
            return
        metrics.GATEWAY_ERRORS.inc()
        log.warning("the WeChat gateway reported an error: %s", redact(str(getattr(payload, "data", payload))))

    def _on_heartbeat(self, payload: Any) -> None:
        self.last_heartbeat_at = self._clock.now()
        metrics.LAST_HEARTBEAT.set(time.time())

    def _on_dirty(self, payload: tuple[int, str]) -> None:
        payload_type, object_id = payload
        kind = _DIRTY_KINDS.get(payload_type)
        if kind and object_id:
            forget_cached(kind, object_id)

    def _on_scan(self, payload: Any) -> None:
        log.warning("the WeChat gateway waits for a QR-code login (status %s): the account is not logged in",
                    getattr(payload.status, "name", payload.status))

    async def _watch_silence(self) -> None:
        """No event or heartbeat for watchdog_seconds: ding; still nothing dong_wait later:
        reconnect (a stream can hang without the TCP connection noticing)."""
        quiet = timedelta(seconds=self._watchdog_seconds)
        while True:
            heard, heard_at = self._heard, self._heard_at
            await self._clock.sleep_until(heard_at + quiet)
            if self._heard != heard:
                continue
            if not self._connected or self._gateway is None:
                self._heard_at = self._clock.now()  # the reconnect loop is at work; count again
                continue
            metrics.WATCHDOG.labels("ding").inc()
            log.info("no event from the WeChat gateway for %.0f s: sending a ding", self._watchdog_seconds)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._gateway.ding("jingmin-watchdog"), self._dong_wait or None)
            await self._clock.sleep_until(heard_at + quiet + timedelta(seconds=self._dong_wait))
            if self._heard != heard or not self._connected:
                continue
            metrics.WATCHDOG.labels("reconnect").inc()
            silent = self._watchdog_seconds + self._dong_wait
            self._gateway.request_reconnect(f"no event from the gateway for {silent:.0f} s, not even after a ding")
            self._heard_at = self._clock.now()

    # ---- events in arrival order ---------------------------------------------------------

    def _arrival(self, name: str) -> Callable[[Any], None]:
        def listener(payload: Any) -> None:  # synchronous: runs in the order the stream delivers
            self.inflight += 1
            metrics.EVENTS.labels(name).inc()
            task = asyncio.ensure_future(self._convert_in_turn(name, payload))
            self._arrivals.append(task)
            task.add_done_callback(self._converted)

        return listener

    def _converted(self, _task: asyncio.Future) -> None:
        """Hand on every converted event at the head of the line, in arrival order."""
        arrivals = self._arrivals
        while arrivals and arrivals[0].done():
            task = arrivals.popleft()
            event = None
            if task.cancelled():
                metrics.DROPPED_EVENTS.labels("timeout").inc()
                log.warning("gave up reading an event from the gateway after %.0f s", self._convert_timeout)
            elif task.exception() is not None:
                error = task.exception()
                metrics.DROPPED_EVENTS.labels("convert").inc()
                log.error("could not read an event from the gateway: %s: %s", type(error).__name__,
                          redact(str(error))[:300], exc_info=(type(error), error, error.__traceback__))
            else:
                event = task.result()
            if event is None:
                self.inflight -= 1
            else:
                self._dispatch(event)

    async def _watch_conversions(self) -> None:
        """An event that takes too long to load (a hung RPC) must not hold back those behind it.
        Each is timed from when it took its slot, so a gateway that hangs on many at once (all
        CONVERT_AT_ONCE slots) costs one convert_timeout, not one per event in turn."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            now = loop.time()
            for task, since in list(self._loading.items()):
                if now - since >= self._convert_timeout:
                    task.cancel()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, IncomingMessage):
            key = event.chat_key
        elif isinstance(event, (MemberJoined, MemberLeft, RoomRenamed)):
            key = f"room:{event.room_id}"
        elif isinstance(event, FriendRequest):
            key = f"contact:{event.contact_id}"
        else:
            key = "invitations"
        queue = self._chats.get(key)
        if queue is None:
            queue = self._chats[key] = collections.deque()
            task = asyncio.create_task(self._drain(key, queue))
            self._chat_tasks.add(task)
            task.add_done_callback(self._chat_tasks.discard)
        queue.append(event)

    async def _drain(self, key: str, queue: collections.deque) -> None:
        try:
            while queue:
                event = queue.popleft()
                try:
                    if self._sink is not None:
                        await self._sink(event)
                except Exception:
                    log.exception("event handling failed", extra={"event": type(event).__name__})
                finally:
                    self.inflight -= 1
        finally:
            if self._chats.get(key) is queue:
                del self._chats[key]

    async def _convert_in_turn(self, name: str, payload: Any) -> Any:
        async with self._convert_slots:
            task = asyncio.current_task()
            self._loading[task] = asyncio.get_running_loop().time()
            try:
                return await self._convert(name, payload)
            finally:
                self._loading.pop(task, None)

    async def _convert(self, name: str, payload: Any) -> Any:
        bot = self._bot
        if name == "message":
            return await self._message(bot, payload.message_id)
        if name == "room-join":
            room = bot.Room.load(payload.room_id)
            await room.ready()
            names = []
            for contact_id in payload.invited_ids:
                contact = bot.Contact.load(contact_id)
                await contact.ready()
                names.append(contact.name)
            return MemberJoined(payload.room_id, await room.topic() or payload.room_id, tuple(payload.invited_ids),
                                tuple(names), payload.inviter_id or None, self._now())
        if name == "room-topic":
            room = bot.Room.load(payload.room_id)
            if room.is_ready():  # its cached payload would go on reporting the old name
                room.payload.topic = payload.new_topic
            return RoomRenamed(payload.room_id, payload.new_topic, self._now())
        if name == "room-leave":
            return MemberLeft(payload.room_id, tuple(payload.removed_ids), self._now())
        if name == "friendship":
            from wechaty_puppet import FriendshipType

            friendship = bot.Friendship.load(payload.friendship_id)
            await friendship.ready()
            if friendship.type() != FriendshipType.FRIENDSHIP_TYPE_RECEIVE:
                return None
            contact = friendship.contact()
            await contact.ready()
            return FriendRequest(contact.contact_id, contact.name, friendship.hello() or "", self._now(),
                                 request_id=payload.friendship_id)
        if name == "room-invite":
            # PuppetService.room_invitation_payload breaks on betterproto's camelCase to_dict();
            # ask the stub directly. Some gateways put the inviter in a JSON `invitation` field.
            response = await bot.puppet.puppet_stub.room_invitation_payload(id=payload.room_invitation_id)
            extra: dict = {}
            with contextlib.suppress(ValueError, TypeError):
                extra = json.loads(response.invitation or "{}")
            inviter = response.inviter_id or extra.get("inviterId", "")
            return RoomInvitation(payload.room_invitation_id, response.topic or extra.get("topic", ""), inviter,
                                  self._now())
        return None

    async def _message(self, bot: Any, message_id: str) -> IncomingMessage | None:
        msg = bot.Message.load(message_id)
        await msg.ready()
        p = msg.payload
        if p.from_id == self.bot_id:
            return None
        talker = msg.talker()
        room = msg.room()
        room_name = None
        if room is not None:
            await room.ready()
            room_name = room.payload.topic or await room.topic()  # topic(): a name from the members
        kind = _KINDS.get(msg.type().name, MessageKind.OTHER)
        text = msg.text() or ""
        mentions = tuple(getattr(p, "mention_ids", None) or ())
        mentions_bot = self.bot_id in mentions or (
            room is not None and f"@{self.bot_name}" in text)
        attachment = name = error = None
        if kind in (MessageKind.IMAGE, MessageKind.FILE):
            attachment, name, error = await self._attachment(message_id, kind, p.filename or "")
        return IncomingMessage(
            id=message_id, sender_id=talker.contact_id, sender_name=talker.name or talker.contact_id, text=text,
            at=self._now(), room_id=room.room_id if room is not None else None, room_name=room_name,
            kind=kind, mentions_bot=mentions_bot, mentions=mentions, attachment=attachment, attachment_name=name,
            attachment_error=error)

    # ---- attachments ---------------------------------------------------------------------

    async def _attachment(self, message_id: str, kind: MessageKind, filename: str
                          ) -> tuple[bytes | None, str | None, str | None]:
        """(bytes, name, None), or (None, name, why) after logging why."""
        name = filename or None
        try:
            async with asyncio.timeout(self._attachment_timeout):
                stub = self._bot.puppet.puppet_stub
                if kind == MessageKind.IMAGE:
                    response = await stub.message_image(id=message_id, type=3)  # IMAGE_TYPE_ARTWORK
                else:
                    response = await stub.message_file(id=message_id)
                box = read_file_box(response.filebox)
                name = box.name or name
                return await self._box_bytes(box), name, None
        except (AttachmentError, FileBoxUnreadable, FileTooLarge) as failure:
            why = str(failure)
        except TimeoutError:
            why = f"not received within {self._attachment_timeout:.0f} s"
        except Exception as failure:  # grpclib, aiohttp, OSError ...
            why = f"{type(failure).__name__}: {redact(str(failure))[:200]}"
        metrics.ATTACHMENT_FAILURES.inc()
        log.warning("could not fetch an attachment: %s", why, extra={"message_id": message_id})
        return None, name, why

    async def _box_bytes(self, box: FileBoxRef) -> bytes:
        cap = self._attachment_max
        if box.kind == BOX_BASE64:
            if len(box.base64) * 3 // 4 > cap + 3:
                raise FileTooLarge(f"larger than the {cap // 1024} KB cap")
            try:
                data = base64.b64decode(box.base64, validate=False)
            except (binascii.Error, ValueError):
                raise AttachmentError("the gateway's base64 FileBox is not valid base64") from None
        elif box.kind == BOX_URL:
            data = await self._download(box)
        elif box.kind == BOX_QR:
            data = qr_code_png(box.qr_code)
        elif box.kind == BOX_UUID:
            data = await self._download_uuid(box)
        else:
            raise AttachmentError(f"a FileBox of type {box.kind} cannot be read")
        if not data:
            raise AttachmentError("the file had no content")
        if len(data) > cap:
            raise FileTooLarge(f"larger than the {cap // 1024} KB cap")
        return data

    async def _download(self, box: FileBoxRef) -> bytes:
        parts = urlsplit(box.url)
        if parts.scheme not in ("http", "https"):
            raise AttachmentError(f"the gateway's file URL is not http(s) ({parts.scheme or 'no scheme'})")
        async with self._http.get(box.url, headers=box.headers or None, allow_redirects=True) as response:
            if response.status != 200:
                raise AttachmentError(f"HTTP {response.status} from {parts.hostname}")
            if (response.content_length or 0) > self._attachment_max:
                raise FileTooLarge(f"larger than the {self._attachment_max // 1024} KB cap")
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > self._attachment_max:
                    raise FileTooLarge(f"larger than the {self._attachment_max // 1024} KB cap")
        return bytes(data)

    async def _download_uuid(self, box: FileBoxRef) -> bytes:
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError

        if not box.uuid or not hasattr(self._gateway, "download"):
            raise AttachmentError("the gateway sent a UUID FileBox, which only its Download RPC can fetch")
        try:
            return await self._gateway.download(box.uuid, self._attachment_max, self._attachment_timeout)
        except GRPCError as error:
            if error.status == Status.UNIMPLEMENTED:
                raise AttachmentError("the gateway sent a UUID FileBox but has no Download RPC") from None
            raise AttachmentError(f"the gateway's Download RPC failed: {error.status.name}") from None

    # ---- actions -------------------------------------------------------------------------

    def _puppet(self) -> Any:
        if self._bot is None or not self._connected:
            raise TransportError("not connected to the WeChat gateway")
        return self._bot.puppet

    async def send(self, out: Outgoing) -> None:
        puppet = self._puppet()
        conversation = out.room_id or out.contact_id
        if not conversation:
            raise TransportError("a message needs a room or a contact")
        try:
            if out.kind in ("image", "file"):
                from wechaty import FileBox

                path = Path(out.text)
                if not path.is_file():
                    metrics.SENDS.labels(out.kind, "missing").inc()
                    raise TransportError(f"file to send does not exist: {path.name}")
                await puppet.message_send_file(conversation, FileBox.from_file(str(path), name=path.name))
            else:
                text, mentions = out.text, list(out.mention_ids) if out.room_id else []
                if mentions:
                    names = []
                    for contact_id in mentions:
                        try:
                            names.append("@" + (await puppet.contact_payload(contact_id)).name)
                        except Exception:
                            continue
                    if names:
                        text = AT_SEPARATOR.join(names) + AT_SEPARATOR + text
                await puppet.message_send_text(conversation, text, mentions or None)
        except TransportError:
            raise
        except Exception as error:  # grpclib, OSError, StreamTerminatedError ...
            metrics.SENDS.labels(out.kind, "error").inc()
            raise TransportError(f"send failed: {_describe(error)}") from error
        metrics.SENDS.labels(out.kind, "ok").inc()

    async def list_rooms(self) -> list[RoomInfo]:
        puppet = self._puppet()
        rooms = []
        try:
            for room_id in await puppet.room_list():
                payload = await puppet.room_payload(room_id)
                rooms.append(RoomInfo(room_id, payload.topic or room_id, len(payload.member_ids or ())))
        except Exception as error:
            raise TransportError(f"room list failed: {_describe(error)}") from error
        return rooms

    async def room_member_count(self, room_id: str) -> int:
        try:
            return len(await self._puppet().room_members(room_id))
        except Exception:
            return 0

    async def accept_friend(self, request: FriendRequest) -> None:
        try:
            await self._puppet().friendship_accept(request.request_id)
        except Exception as error:
            raise TransportError(f"friend accept failed: {_describe(error)}") from error

    async def accept_invitation(self, invitation: RoomInvitation) -> None:
        # RoomInvitation.accept() of this SDK is bound to no puppet; go through the puppet.
        try:
            await self._puppet().room_invitation_accept(invitation.invitation_id)
        except Exception as error:
            raise TransportError(f"invitation accept failed: {_describe(error)}") from error


def _takes_two(hook: Callable) -> bool:
    try:
        inspect.signature(hook).bind(True, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): assume the current one
        return True
    return True


def _describe(error: BaseException) -> str:
    """An RPC error for a TransportError (the outbox logs it): never the token."""
    return redact(f"{type(error).__name__}: {error}")[:300]


def _make_bot(options: Any, transport: WechatyTransport) -> Any:
    """A Wechaty whose puppet events go to the transport, each time they come. The SDK's own
    bridge is not used: it handles login once per stream, listens for 'heart-beat' (the stream
    says 'heartbeat') and runs each listener as a task (losing the order)."""
    from wechaty import Wechaty

    class _Bot(Wechaty):
        async def init_puppet_event_bridge(self, puppet: Any) -> None:
            stream = puppet._event_stream  # noqa: SLF001 - wechaty-puppet-service is pinned
            stream.remove_all_listeners()
            for name in _ORDERED_EVENTS:
                stream.on(name, transport._arrival(name))  # noqa: SLF001
            for name in ("login", "logout", "error", "heartbeat", "dirty", "scan"):
                stream.on(name, getattr(transport, "_on_" + name))
            for name in ("dong", "ready", "reset"):
                stream.on(name, lambda payload, name=name: log.debug("gateway event %s", name))

    return _Bot(options)
