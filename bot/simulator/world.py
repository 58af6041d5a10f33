"""The simulated WeChat's state: contacts, rooms, messages, and what the bot sent.

The world knows nothing of gRPC. Its inject_* methods change the state and queue the event the
real WeChat would push; PuppetSimulator serves that state and those events to the wechaty SDK.
Event payloads are the JSON shapes of the TypeScript puppet-service (camelCase keys).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol

from urllib.parse import quote

from wechaty_grpc.wechaty.puppet import EventType, PayloadType

# A 1x1 PNG: the default content of an injected image, so to_file_box() has real bytes to return.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class _LocalClock:
    def now(self) -> datetime:
        return datetime.now().astimezone()


@dataclass
class SimContact:
    id: str
    name: str
    friend: bool = True
    alias: str = ""


@dataclass
class SimRoom:
    id: str
    topic: str
    member_ids: list[str] = field(default_factory=list)
    owner_id: str = ""
    announcement: str = ""


@dataclass
class SimMessage:
    """A message as WeChat stores it: what MessagePayload / MessageImage / MessageFile serve."""

    id: str
    kind: str  # bot.messages.MessageKind values: text, image, file, voice, video, link, ...
    text: str
    from_id: str
    at: datetime
    room_id: str = ""
    to_id: str = ""
    mention_ids: tuple[str, ...] = ()
    filename: str = ""
    data: bytes = b""


@dataclass(frozen=True)
class SentMessage:
    """One message the bot sent. `text` is the file name for images and files."""

    id: str
    kind: str
    text: str
    at: datetime
    room_id: str | None = None
    contact_id: str | None = None
    mention_ids: tuple[str, ...] = ()


@dataclass
class FriendRequest:
    id: str
    contact_id: str
    hello: str
    at: datetime
    accepted: bool = False


@dataclass
class RoomInvite:
    id: str
    room_id: str
    inviter_id: str
    at: datetime
    accepted: bool = False


class EventFeed:
    """Events waiting for the bot's Event stream.

    A real puppet service writes each event to the streams open at that moment: an event that
    happens while no bot is listening (no Event stream, or the account logged out) is lost, and
    so is what a dying stream had not written yet. The feed does the same; `dropped` counts
    them. `keep_while_offline` instead keeps them for the next stream (the simulator's old
    behaviour, for a test that needs it)."""

    def __init__(self) -> None:
        self._items: deque[tuple[int, str]] = deque()
        self._changed = asyncio.Event()
        self.listening = False  # set by PuppetSimulator: a stream is open and the account logged in
        self.keep_while_offline = False
        self.dropped = 0

    def push(self, event_type: EventType, payload: dict | str | None) -> None:
        """Queue an event. `payload` is a dict (sent as JSON), a string sent as it is, or None:
        no payload, which the gRPC message carries as an empty string."""
        if not self.listening and not self.keep_while_offline:
            self.dropped += 1
            return
        if isinstance(payload, dict):
            payload = json.dumps(payload, ensure_ascii=False)
        self._items.append((int(event_type), payload or ""))
        self._changed.set()

    def push_front(self, item: tuple[int, str]) -> None:
        """Put back an event a dying stream could not deliver."""
        self._items.appendleft(item)
        self._changed.set()

    def take(self) -> tuple[int, str] | None:
        return self._items.popleft() if self._items else None

    def stream_lost(self) -> None:
        """The Event stream ended with events not yet written: lost, unless kept."""
        if not self.keep_while_offline:
            self.dropped += len(self._items)
            self._items.clear()

    async def changed(self) -> None:
        """Return when an event was pushed or wake() was called."""
        if self._items:
            return
        self._changed.clear()
        await self._changed.wait()

    def wake(self) -> None:
        self._changed.set()

    def __len__(self) -> int:
        return len(self._items)


class SimWorld:
    def __init__(self, bot_id: str = "wx_bot", bot_name: str = "警民群助手", clock: Clock | None = None):
        self.clock: Clock = clock or _LocalClock()
        self.bot = SimContact(bot_id, bot_name, friend=False)
        self.contacts: dict[str, SimContact] = {bot_id: self.bot}
        self.rooms: dict[str, SimRoom] = {}
        self.messages: dict[str, SimMessage] = {}
        self.friend_requests: dict[str, FriendRequest] = {}
        self.room_invites: dict[str, RoomInvite] = {}
        self.sent: list[SentMessage] = []
        self.feed = EventFeed()
        # Ids carry a per-world prefix: the SDK drops a message id it has seen before in this
        # process (a class-level container), so two worlds must never reuse one.
        self._prefix = secrets.token_hex(3)
        self._seq = itertools.count(1)
        self._sent_changed = asyncio.Event()
        # Called with every message injected or sent (the web chat page shows them live).
        self.listeners: list = []
        # http://host:port of the simulator's media server while it runs (see media_url).
        self.media_base: str | None = None

    # ---- building the community ----

    def add_contact(self, contact_id: str, name: str, friend: bool = True) -> SimContact:
        contact = SimContact(contact_id, name, friend)
        self.contacts[contact_id] = contact
        return contact

    def add_room(self, room_id: str, topic: str, member_ids: Iterable[str] = (), with_bot: bool = True) -> SimRoom:
        members = list(dict.fromkeys(member_ids))
        if with_bot and self.bot.id not in members:
            members.append(self.bot.id)
        self._require_contacts(members)
        room = SimRoom(room_id, topic, members, owner_id=members[0] if members else "")
        self.rooms[room_id] = room
        return room

    def new_id(self, kind: str) -> str:
        return f"{kind}-{self._prefix}-{next(self._seq)}"

    def timestamp_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def media_url(self, message_id: str) -> str | None:
        """Where the simulator serves an image's or file's bytes (None while it is stopped)."""
        message = self.messages.get(message_id)
        if message is None or self.media_base is None:
            return None
        return f"{self.media_base}/files/{quote(message.id)}/{quote(message.filename or message.id)}"

    # ---- things that happen in WeChat (each queues one event for the bot) ----

    def inject_message(self, sender_id: str, text: str, room_id: str | None = None, kind: str = "text",
                       mentions: Iterable[str] = (), filename: str = "", data: bytes | None = None) -> str:
        """A contact writes to a room (room_id) or privately to the bot. For an image or file,
        `filename` names it and `data` is its content (a tiny PNG by default).

        Someone not yet in the room becomes a member, silently: only members can speak, so they
        joined in a way the bot was not told of (a join while it was away, a QR-code join the
        service did not report). A real service sends room-join only for WeChat's join notice
        (inject_join), and its room payload lists the member from then on."""
        self._require_contacts([sender_id])
        if room_id is not None:
            room = self._require_room(room_id)
            if sender_id not in room.member_ids:
                room.member_ids.append(sender_id)
        if kind == "image" and data is None:
            data, filename = TINY_PNG, filename or "photo.png"
        message = SimMessage(
            id=self.new_id("msg"), kind=kind, text=text, from_id=sender_id, at=self.clock.now(),
            room_id=room_id or "", to_id="" if room_id else self.bot.id,
            mention_ids=tuple(mentions), filename=filename, data=data or b"",
        )
        self.messages[message.id] = message
        self.feed.push(EventType.EVENT_TYPE_MESSAGE, {"messageId": message.id})
        self._notify(message)
        return message.id

    def inject_join(self, room_id: str, contact_ids: Iterable[str], inviter_id: str) -> None:
        room = self._require_room(room_id)
        joined = [cid for cid in contact_ids if cid not in room.member_ids]
        self._require_contacts([*joined, inviter_id])
        room.member_ids.extend(joined)
        self.feed.push(EventType.EVENT_TYPE_ROOM_JOIN, {
            "roomId": room_id, "inviteeIdList": joined, "inviterId": inviter_id,
            "timestamp": self.timestamp_ms(),
        })

    def inject_leave(self, room_id: str, contact_ids: Iterable[str], remover_id: str | None = None) -> None:
        room = self._require_room(room_id)
        left = [cid for cid in contact_ids if cid in room.member_ids]
        room.member_ids[:] = [cid for cid in room.member_ids if cid not in left]
        # WeChat names the leaver as remover when someone quits on their own.
        remover = remover_id or (left[0] if left else self.bot.id)
        self.feed.push(EventType.EVENT_TYPE_ROOM_LEAVE, {
            "roomId": room_id, "removeeIdList": left, "removerId": remover,
            "timestamp": self.timestamp_ms(),
        })

    def inject_topic(self, room_id: str, new_topic: str, changer_id: str) -> None:
        room = self._require_room(room_id)
        old_topic, room.topic = room.topic, new_topic
        self.feed.push(EventType.EVENT_TYPE_ROOM_TOPIC, {
            "roomId": room_id, "newTopic": new_topic, "oldTopic": old_topic,
            "changerId": changer_id, "timestamp": self.timestamp_ms(),
        })

    def inject_friend_request(self, contact_id: str, hello: str = "") -> str:
        contact = self._require_contacts([contact_id])[0]
        contact.friend = False
        request = FriendRequest(self.new_id("friendship"), contact_id, hello, self.clock.now())
        self.friend_requests[request.id] = request
        self.feed.push(EventType.EVENT_TYPE_FRIENDSHIP, {"friendshipId": request.id})
        return request.id

    def inject_room_invite(self, room_id: str, inviter_id: str, topic: str | None = None) -> str:
        """`inviter_id` invites the bot into `room_id`; a room the world does not know yet is
        created with `topic`, the inviter as its only member."""
        self._require_contacts([inviter_id])
        if room_id not in self.rooms:
            self.add_room(room_id, topic or room_id, [inviter_id], with_bot=False)
        invite = RoomInvite(self.new_id("invite"), room_id, inviter_id, self.clock.now())
        self.room_invites[invite.id] = invite
        self.feed.push(EventType.EVENT_TYPE_ROOM_INVITE, {"roomInvitationId": invite.id})
        return invite.id

    # ---- what a puppet service says about itself ----

    def inject_error(self, text: str = "simulated gateway error", shape: str = "gerror") -> None:
        """An error event in the shape a real service sends it:
        - "gerror": a 1.x service (every error becomes `{"gerror": "..."}`);
        - "empty": a 0.2x `Puppet.reset()` failure, `{}`;
        - "none": an error emitted without payload, an empty string on the wire;
        - "data": the `{"data": "..."}` the Python SDK expects."""
        payloads = {"gerror": {"gerror": text}, "empty": {}, "none": None, "data": {"data": text}}
        if shape not in payloads:
            raise ValueError(f"unknown error shape {shape!r}; one of {sorted(payloads)}")
        self.feed.push(EventType.EVENT_TYPE_ERROR, payloads[shape])

    def inject_dirty(self, payload_type: str, payload_id: str) -> None:
        """A 1.x dirty event: the service's cached payload of a contact, room, room_member,
        message or friendship changed; clients drop their copy."""
        kind = PayloadType[f"PAYLOAD_TYPE_{payload_type.upper()}"]
        self.feed.push(EventType.EVENT_TYPE_DIRTY, {"payloadType": int(kind), "payloadId": payload_id})

    def inject_event(self, event_type: EventType, payload: dict | str | None = None) -> None:
        """Any event as it is: a dict goes as JSON, a string as it is, None as no payload."""
        self.feed.push(event_type, payload)

    # ---- what the bot does (called by PuppetSimulator) ----

    def accept_friend_request(self, friendship_id: str) -> None:
        request = self.friend_requests[friendship_id]
        request.accepted = True
        self.contacts[request.contact_id].friend = True

    def accept_room_invite(self, invitation_id: str) -> None:
        invite = self.room_invites[invitation_id]
        invite.accepted = True
        members = self.rooms[invite.room_id].member_ids
        if self.bot.id not in members:
            members.append(self.bot.id)

    def record_sent(self, conversation_id: str, kind: str, text: str, filename: str = "",
                    data: bytes = b"", mention_ids: Iterable[str] = ()) -> SentMessage:
        """Keep a sent message twice: as a SimMessage, because the SDK asks for its payload right
        after sending, and as a SentMessage for tests and transcripts."""
        in_room = conversation_id in self.rooms
        message = SimMessage(
            id=self.new_id("sent"), kind=kind, text=text, from_id=self.bot.id, at=self.clock.now(),
            room_id=conversation_id if in_room else "", to_id="" if in_room else conversation_id,
            mention_ids=tuple(mention_ids), filename=filename, data=data,
        )
        self.messages[message.id] = message
        sent = SentMessage(
            id=message.id, kind=kind, text=filename if kind in ("image", "file") else text, at=message.at,
            room_id=conversation_id if in_room else None, contact_id=None if in_room else conversation_id,
            mention_ids=message.mention_ids,
        )
        self.sent.append(sent)
        self._sent_changed.set()
        self._notify(message)
        return sent

    def _notify(self, message: SimMessage) -> None:
        for listener in list(self.listeners):
            try:
                listener(message)
            except Exception:  # a closed page must not break the world
                pass

    async def wait_sent(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until at least `count` messages were sent in all; raise TimeoutError otherwise."""
        async def reached() -> None:
            while len(self.sent) < count:
                self._sent_changed.clear()
                await self._sent_changed.wait()

        try:
            await asyncio.wait_for(reached(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"bot sent {len(self.sent)} messages, expected {count} within {timeout}s: "
                               f"{[s.text for s in self.sent]}") from None
        return list(self.sent)

    # ---- lookups ----

    def _require_contacts(self, contact_ids: Iterable[str]) -> list[SimContact]:
        unknown = [cid for cid in contact_ids if cid not in self.contacts]
        if unknown:
            raise KeyError(f"unknown contacts: {unknown}")
        return [self.contacts[cid] for cid in contact_ids]

    def _require_room(self, room_id: str) -> SimRoom:
        if room_id not in self.rooms:
            raise KeyError(f"unknown room: {room_id}")
        return self.rooms[room_id]
