"""The core's Transport over the real wechaty SDK (a puppet service gives the WeChat account).

- Events: message, room-join, room-leave, room-topic, friendship, room-invite become the core's
  dataclasses; login/logout/error and every connection change are logged.
- Order: the SDK runs each event listener as its own task, so a message needing one more RPC is
  handled after a later one. We replace the SDK's listeners with synchronous ones that note each
  event in arrival order and start converting it at once; as each conversion finishes, every
  finished one at the head of the line is handed on, in that order, to one queue per chat (a
  room, or a private contact), drained by one task per chat. Chats proceed in parallel, each in
  arrival order. A watchdog gives up on an event stuck loading for CONVERT_TIMEOUT.
- Duplicates are left to the router (same id; same text from the same sender within 10 s).
- Reconnect: wechaty_compat.run_with_reconnect (exponential backoff, capped); while down
  `connected` is False, `on_connection_change(False)` pauses the outbox, login resumes it.
- Send goes straight to the puppet (one RPC): Room.say() would add a MessagePayload RPC after
  the send, whose failure would make the outbox resend a message that did go out.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from bot import metrics
from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, MessageKind, Outgoing, RoomInvitation, RoomRenamed,
)
from bot.transport import EventSink, RoomInfo, Transport, TransportError
from bot.wechaty_compat import endpoint_reachable, free_tcp_port, make_options, prepare, run_with_reconnect, stop_bot

log = logging.getLogger(__name__)

MAX_ATTACHMENT = 10 * 1024 * 1024
CONVERT_TIMEOUT = 30.0  # seconds one event may take to load before those behind it move on
WATCH_INTERVAL = 1.0
AT_SEPARATOR = "\u2005"  # WeChat puts a four-per-em space after an @name

# wechaty_puppet.MessageType names -> the core's kinds
_KINDS = {
    "MESSAGE_TYPE_TEXT": MessageKind.TEXT, "MESSAGE_TYPE_IMAGE": MessageKind.IMAGE,
    "MESSAGE_TYPE_ATTACHMENT": MessageKind.FILE, "MESSAGE_TYPE_AUDIO": MessageKind.VOICE,
    "MESSAGE_TYPE_VIDEO": MessageKind.VIDEO, "MESSAGE_TYPE_URL": MessageKind.LINK,
    "MESSAGE_TYPE_MINI_PROGRAM": MessageKind.MINI_PROGRAM, "MESSAGE_TYPE_RECALLED": MessageKind.RECALL,
    "MESSAGE_TYPE_EMOTICON": MessageKind.EMOTICON,
}
_ORDERED_EVENTS = ("message", "room-join", "room-leave", "room-topic", "friendship", "room-invite")


def _now() -> datetime:
    return datetime.now().astimezone()


class WechatyTransport(Transport):
    def __init__(self, endpoint: str | None, token: str | None, *, now: Callable[[], datetime] = _now,
                 web_port: int | None = None, name: str = "jingmin", login_timeout: float = 20.0,
                 first_delay: float = 0.5, max_delay: float = 30.0) -> None:
        self.endpoint = endpoint
        self.token = token
        self._now = now
        self._web_port = web_port
        self._name = name
        self._login_timeout = login_timeout
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._sink: EventSink | None = None
        self._bot: Any = None
        self._task: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self._connected = False
        self._logged_in = asyncio.Event()
        self._arrivals: collections.deque[asyncio.Future] = collections.deque()
        self._chats: dict[str, collections.deque] = {}
        self._chat_tasks: set[asyncio.Task] = set()
        self.on_connection_change: Callable[[bool], Any] | None = None
        self.last_event_at: datetime | None = None
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
        if not await endpoint_reachable(self.endpoint):
            raise TransportError(f"cannot reach the WeChat gateway at {self.endpoint}")
        prepare()
        self._sink = sink
        self._logged_in.clear()
        options = make_options(self.endpoint, self.token, self._web_port or free_tcp_port(), name=self._name)
        self._bot = _make_bot(options, self)
        self._watchdog = asyncio.create_task(self._watch(), name="wechaty-watch")
        self._task = asyncio.create_task(
            run_with_reconnect(self._bot, self._first_delay, self._max_delay, on_drop=self._dropped),
            name="wechaty-bot")
        log.info("connecting to the WeChat gateway", extra={"endpoint": self.endpoint})
        try:
            await asyncio.wait_for(self._logged_in.wait(), self._login_timeout)
        except asyncio.TimeoutError:
            await self.stop()
            raise TransportError(f"the WeChat gateway at {self.endpoint} did not log in within "
                                 f"{self._login_timeout:.0f} s") from None

    async def stop(self) -> None:
        if self._bot is not None:
            await stop_bot(self._bot, self._task)
        for task in [self._watchdog, *self._chat_tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [self._watchdog, *self._chat_tasks] if t), return_exceptions=True)
        for fut in self._arrivals:
            fut.cancel()
        self._arrivals.clear()
        self._bot = self._task = self._watchdog = None
        self._sink = None
        self._set_connected(False, "stopped")

    def _set_connected(self, up: bool, why: str) -> None:
        if up == self._connected:
            return
        self._connected = up
        metrics.CONNECTED.set(1 if up else 0)
        log.log(logging.INFO if up else logging.WARNING, "WeChat gateway %s (%s)", "connected" if up else "disconnected", why,
                    extra={"endpoint": self.endpoint})
        if self.on_connection_change is not None:
            try:
                self.on_connection_change(up)
            except Exception:
                log.exception("connection change hook failed")

    def _dropped(self, error: BaseException | None, delay: float) -> None:
        metrics.RECONNECTS.inc()
        why = f"stream ended: {type(error).__name__}" if error else "stream closed by the gateway"
        self._set_connected(False, why)
        log.warning("reconnecting to the WeChat gateway in %.1f s", delay, extra={"endpoint": self.endpoint})

    async def _on_login(self, contact: Any) -> None:
        self.bot_id = contact.contact_id
        with contextlib.suppress(Exception):
            self.bot_name = contact.name or self.bot_name
        self.logins += 1
        self._set_connected(True, f"logged in as {self.bot_id}")
        self._logged_in.set()

    async def _on_logout(self, contact: Any, data: Any) -> None:
        self._set_connected(False, f"logged out: {data}")

    # ---- events in arrival order ---------------------------------------------------------

    def _arrival(self, name: str) -> Callable[[Any], None]:
        def listener(payload: Any) -> None:  # synchronous: runs in the order the stream delivers
            self.inflight += 1
            task = asyncio.ensure_future(self._convert(name, payload))
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
                log.warning("gave up reading an event from the gateway after %.0f s", CONVERT_TIMEOUT)
            elif task.exception() is not None:
                log.error("could not read an event from the gateway", exc_info=task.exception())
            else:
                event = task.result()
            if event is None:
                self.inflight -= 1
            else:
                self._dispatch(event)

    async def _watch(self) -> None:
        """An event that takes too long to load (a hung RPC) must not hold back those behind it."""
        loop = asyncio.get_running_loop()
        stuck, since = None, 0.0
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            head = self._arrivals[0] if self._arrivals else None
            if head is not stuck:
                stuck, since = head, loop.time()
            elif head is not None and loop.time() - since >= CONVERT_TIMEOUT:
                head.cancel()

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

    async def _convert(self, name: str, payload: Any) -> Any:
        bot = self._bot
        self.last_event_at = self._now()
        metrics.LAST_EVENT.set(time.time())
        metrics.EVENTS.labels(name).inc()
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
        attachment = name = None
        if kind in (MessageKind.IMAGE, MessageKind.FILE):
            try:
                box = await msg.to_file_box()
                data = base64.b64decode(box.base64 or b"") if getattr(box, "base64", None) else None
                if data is not None and len(data) <= MAX_ATTACHMENT:
                    attachment, name = data, box.name
            except Exception:
                log.warning("could not fetch an attachment", extra={"message_id": message_id})
        return IncomingMessage(
            id=message_id, sender_id=talker.contact_id, sender_name=talker.name or talker.contact_id, text=text,
            at=self._now(), room_id=room.room_id if room is not None else None, room_name=room_name,
            kind=kind, mentions_bot=mentions_bot, mentions=mentions, attachment=attachment, attachment_name=name)

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
            raise TransportError(f"send failed: {type(error).__name__}: {error}") from error
        metrics.SENDS.labels(out.kind, "ok").inc()

    async def list_rooms(self) -> list[RoomInfo]:
        puppet = self._puppet()
        rooms = []
        try:
            for room_id in await puppet.room_list():
                payload = await puppet.room_payload(room_id)
                rooms.append(RoomInfo(room_id, payload.topic or room_id, len(payload.member_ids or ())))
        except Exception as error:
            raise TransportError(f"room list failed: {error}") from error
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
            raise TransportError(f"friend accept failed: {error}") from error

    async def accept_invitation(self, invitation: RoomInvitation) -> None:
        # RoomInvitation.accept() of this SDK is bound to no puppet; go through the puppet.
        try:
            await self._puppet().room_invitation_accept(invitation.invitation_id)
        except Exception as error:
            raise TransportError(f"invitation accept failed: {error}") from error


def _make_bot(options: Any, transport: WechatyTransport) -> Any:
    from wechaty import Wechaty

    class _Bot(Wechaty):
        async def init_puppet_event_bridge(self, puppet: Any) -> None:
            await super().init_puppet_event_bridge(puppet)
            stream = puppet._event_stream  # noqa: SLF001 - wechaty-puppet-service is pinned
            for name in _ORDERED_EVENTS:
                stream.remove_all_listeners(name)
                stream.on(name, transport._arrival(name))  # noqa: SLF001

        async def on_login(self, contact: Any) -> None:
            await transport._on_login(contact)  # noqa: SLF001

        async def on_logout(self, contact: Any, *args: Any) -> None:
            await transport._on_logout(contact, args[0] if args else "")  # noqa: SLF001

        async def on_error(self, payload: Any) -> None:
            log.warning("WeChat gateway reported an error: %s", getattr(payload, "data", payload))

    return _Bot(options)
