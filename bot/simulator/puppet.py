"""PuppetSimulator: serves a SimWorld over the wechaty puppet-service gRPC protocol.

The real python `wechaty` SDK connects to it exactly as it would to a production puppet service
(grpclib, plain gRPC, token as :authority). Every route of `wechaty_grpc.wechaty.PuppetStub` is
answered: a route left unanswered turns into an error that the SDK swallows, which hides bugs.

It is as harsh as the real services (SimulatorOptions switches each one off for a test that
needs it): heartbeats on the Event stream; events that happen while no bot listens are lost;
Logout sends a logout event and the account stays logged out until the next Start; images and
files are URL FileBoxes served over HTTP (MediaServer); error, dirty and payload-less events
come on demand (SimWorld.inject_error / inject_dirty / inject_event).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import mimetypes
import re
import weakref
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal, Optional

import betterproto
from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import PuppetStub
from wechaty_grpc.wechaty import puppet as pb

from bot.simulator.media import MediaServer, base64_filebox, url_filebox
from bot.simulator.world import TINY_PNG, SentMessage, SimMessage, SimWorld  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

# MessagePayloadResponse.type carries the TypeScript puppet's MessageType numbers, not the proto
# enum: the SDK maps them back (wechaty_puppet_service.puppet._map_message_type).
TS_MESSAGE_TYPE = {
    "other": 0, "file": 1, "voice": 2, "contact": 3, "emoticon": 5, "image": 6, "text": 7,
    "location": 8, "mini_program": 9, "recall": 13, "link": 14, "video": 15,
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")

# Routes whose message classes do not follow "<Route>Request" / "<Route>Response".
_CLASS_STEMS = {"ContactSelfQRCode": "ContactSelfQrCode", "RoomQRCode": "RoomQrCode"}
_STREAMING = {
    "Event": Cardinality.UNARY_STREAM,
    "MessageFileStream": Cardinality.UNARY_STREAM,
    "MessageImageStream": Cardinality.UNARY_STREAM,
    "MessageSendFileStream": Cardinality.STREAM_UNARY,
}


@dataclass(frozen=True)
class SimulatorOptions:
    """How harsh the simulated service is. The defaults are what real services do."""

    # A heartbeat event every this many seconds on an open Event stream (Node services: one
    # every 15-60 s); None sends none.
    heartbeat_seconds: Optional[float] = 15.0
    # Keep events that happen while no bot listens for the next Event stream, instead of
    # losing them as a real service does.
    queue_while_offline: bool = False
    # How MessageImage / MessageFile answer: a URL FileBox (as CDN-backed puppets do) or the
    # bytes inline as a base64 FileBox.
    attachments: Literal["url", "base64"] = "url"
    # Seconds every MessagePayload takes to answer (a gateway far away or busy); 0 answers at once.
    payload_seconds: float = 0.0


# MessageForward came into the wechaty-grpc protocol (puppet/message.proto) after the 0.20
# release the SDK pins; its two messages are written out here from the proto, so that a newer
# client (Node wechaty 1.x, a grpclib client) finds the route.
@dataclass(eq=False, repr=False)
class MessageForwardRequest(betterproto.Message):
    message_id: str = betterproto.string_field(1)
    conversation_id: str = betterproto.string_field(2)


@dataclass(eq=False, repr=False)
class MessageForwardResponse(betterproto.Message):
    id: Optional[str] = betterproto.message_field(1, wraps=betterproto.TYPE_STRING)


# Routes newer than the pinned PuppetStub: route -> (request, response).
NEWER_ROUTES = {"MessageForward": (MessageForwardRequest, MessageForwardResponse)}


def _kind_of_file(name: str, mime: str = "") -> str:
    is_image = mime.startswith("image/") or name.lower().endswith(IMAGE_SUFFIXES)
    return "image" if is_image else "file"


class _Server(Server):
    """grpclib's Server.close() cancels handlers but leaves accepted connections open (Python
    3.11 asyncio keeps them): a stopped simulator must drop them, as a crashed gateway would."""

    def __init__(self, handlers: list[Any]) -> None:
        super().__init__(handlers)
        self._protocols: weakref.WeakSet = weakref.WeakSet()

    def _protocol_factory(self):  # type: ignore[no-untyped-def]
        protocol = super()._protocol_factory()
        self._protocols.add(protocol)
        return protocol

    def drop_connections(self) -> None:
        for protocol in list(self._protocols):
            connection = getattr(protocol, "connection", None)
            if connection is not None:
                connection._transport.close()  # noqa: SLF001 - grpclib==0.4.9 is pinned


class PuppetSimulator:
    def __init__(self, world: SimWorld, token: str = "sim-token", options: SimulatorOptions | None = None) -> None:
        self.world = world
        self.token = token
        self.options = options or SimulatorOptions()
        self.port: int | None = None
        self.media = MediaServer(world)
        self._server: _Server | None = None
        self._stream_generation = 0  # the newest Event stream; older ones end
        self._live_stream: int | None = None  # generation of the stream now open, if any
        self.logged_in = True  # the account; Logout logs it out until the next Start
        self.heartbeats = 0
        self._tags: dict[str, set[str]] = {}
        self.calls: dict[str, int] = {}  # route -> count, to see what the SDK asks
        self.in_flight: dict[str, int] = {}  # route -> calls being answered now
        self.most_in_flight: dict[str, int] = {}  # route -> the most answered at once
        world.feed.keep_while_offline = self.options.queue_while_offline

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on host:port (0: a free port) and return the port. After stop(), start again
        with the same port to simulate the gateway coming back."""
        self._server = _Server([self])
        await self._server.start(host, port)
        sockets = self._server._server.sockets  # noqa: SLF001 - grpclib exposes no bound port
        self.port = sockets[0].getsockname()[1]
        await self.media.start(host)
        return self.port

    async def stop(self) -> None:
        """Stop like a crashed gateway: streams and connections drop, and what happens in the
        world until start() reaches no bot; the world keeps its state."""
        if self._server is None:
            return
        self._server.close()  # cancels the Event handler: the SDK sees the stream drop
        self._server.drop_connections()
        await self._server.wait_closed()
        self._server = None
        await self.media.stop()

    # ---- grpclib plumbing ----

    def __mapping__(self) -> dict[str, Handler]:
        mapping = {}
        for route in _route_names():
            stem = _CLASS_STEMS.get(route, route)
            cardinality = _STREAMING.get(route, Cardinality.UNARY_UNARY)
            handler = getattr(self, "rpc_" + _snake(stem))
            if cardinality is Cardinality.UNARY_UNARY:
                handler = self._unary(route, handler)
            mapping[f"/wechaty.Puppet/{route}"] = Handler(
                handler, cardinality, getattr(pb, stem + "Request"), getattr(pb, stem + "Response"))
        for route, (request_type, reply_type) in NEWER_ROUTES.items():
            handler = self._unary(route, getattr(self, "rpc_" + _snake(route)))
            mapping[f"/wechaty.Puppet/{route}"] = Handler(handler, Cardinality.UNARY_UNARY, request_type, reply_type)
        return mapping

    def _unary(self, route: str, answer: Callable[[Any], Awaitable[Any]]) -> Callable[[Stream], Awaitable[None]]:
        async def handle(stream: Stream) -> None:
            self.calls[route] = self.calls.get(route, 0) + 1
            now = self.in_flight[route] = self.in_flight.get(route, 0) + 1
            self.most_in_flight[route] = max(now, self.most_in_flight.get(route, 0))
            try:
                request = await stream.recv_message()
                await stream.send_message(await answer(request))
            finally:
                self.in_flight[route] -= 1
        return handle

    def _end_event_streams(self) -> None:
        self._stream_generation += 1
        self.world.feed.wake()

    def _update_listening(self) -> None:
        self.world.feed.listening = self._live_stream is not None and self.logged_in

    # ---- base ----

    async def rpc_start(self, request: pb.StartRequest) -> pb.StartResponse:
        if not self.logged_in:
            self.logged_in = True
            self._update_listening()
            if self._live_stream == self._stream_generation:  # else the next stream logs in
                self._push_login()
        return pb.StartResponse()

    async def rpc_stop(self, request: pb.StopRequest) -> pb.StopResponse:
        # The SDK calls Stop before Start on every (re)connect and on bot.stop().
        self._end_event_streams()
        return pb.StopResponse()

    async def rpc_logout(self, request: pb.LogoutRequest) -> pb.LogoutResponse:
        self.log_out("logout")
        return pb.LogoutResponse()

    def log_out(self, reason: str = "logged out on the phone") -> None:
        """The account logs out (Logout, or on its own: the phone, a kick-out): a logout event,
        then nothing reaches the bot until a Start logs it in again."""
        if self.logged_in:
            self.world.feed.push(pb.EventType.EVENT_TYPE_LOGOUT, {"contactId": self.world.bot.id, "data": reason})
            self.logged_in = False
            self._update_listening()

    async def rpc_ding(self, request: pb.DingRequest) -> pb.DingResponse:
        self.world.feed.push(pb.EventType.EVENT_TYPE_DONG, {"data": request.data})
        return pb.DingResponse()

    async def rpc_version(self, request: pb.VersionRequest) -> pb.VersionResponse:
        return pb.VersionResponse(version="jingmin-simulator/0.1")

    async def rpc_dirty_payload(self, request: pb.DirtyPayloadRequest) -> pb.DirtyPayloadResponse:
        return pb.DirtyPayloadResponse()

    async def rpc_event(self, stream: Stream) -> None:
        """The one long-lived stream: login first if the account is logged in (as a Node
        service replays it to each new stream), then the world's events in order, and
        heartbeats. A newer stream, Stop or stop() ends this one."""
        self.calls["Event"] = self.calls.get("Event", 0) + 1
        await stream.recv_message()
        self._end_event_streams()
        generation = self._live_stream = self._stream_generation
        self._update_listening()  # what happens from now on is queued behind the login
        try:
            if self.logged_in:
                await self._send_event(stream, pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.world.bot.id})
                await self._send_event(stream, pb.EventType.EVENT_TYPE_READY, {"data": "ready"})
            await self._deliver(stream, generation)
        finally:
            if self._live_stream == generation:
                self._live_stream = None
                self._update_listening()
                self.world.feed.stream_lost()

    async def _deliver(self, stream: Stream, generation: int) -> None:
        feed, interval = self.world.feed, self.options.heartbeat_seconds
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + interval if interval else None
        while generation == self._stream_generation:
            if next_beat is not None and loop.time() >= next_beat:
                await self._heartbeat(stream)
                next_beat = loop.time() + interval
            item = feed.take()
            if item is None:
                wait = None if next_beat is None else max(0.0, next_beat - loop.time())
                try:
                    await asyncio.wait_for(feed.changed(), wait)
                except asyncio.TimeoutError:
                    pass
                continue
            try:
                await stream.send_message(pb.EventResponse(type=item[0], payload=item[1]))
            except BaseException:
                if feed.keep_while_offline:
                    feed.push_front(item)  # the next stream delivers it
                raise

    async def _heartbeat(self, stream: Stream) -> None:
        # `timeout` as 0.2x services add it (python-wechaty-puppet#6: the SDK drops the key).
        self.heartbeats += 1
        await self._send_event(stream, pb.EventType.EVENT_TYPE_HEARTBEAT, {
            "data": f"heartbeat #{self.heartbeats}", "timeout": int(self.options.heartbeat_seconds * 2000)})

    def _push_login(self) -> None:
        self.world.feed.push(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.world.bot.id})
        self.world.feed.push(pb.EventType.EVENT_TYPE_READY, {"data": "ready"})

    async def _send_event(self, stream: Stream, event_type: pb.EventType, payload: dict) -> None:
        await stream.send_message(pb.EventResponse(type=event_type, payload=json.dumps(payload)))

    # ---- contacts ----

    def _contact(self, contact_id: str):  # type: ignore[no-untyped-def]
        contact = self.world.contacts.get(contact_id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"contact {contact_id!r} not found")
        return contact

    async def rpc_contact_payload(self, request: pb.ContactPayloadRequest) -> pb.ContactPayloadResponse:
        contact = self._contact(request.id)
        return pb.ContactPayloadResponse(
            id=contact.id, name=contact.name, alias=contact.alias, friend=contact.friend,
            type=pb.ContactType.CONTACT_TYPE_PERSONAL, weixin=contact.id)

    async def rpc_contact_list(self, request: pb.ContactListRequest) -> pb.ContactListResponse:
        return pb.ContactListResponse(ids=[cid for cid in self.world.contacts if cid != self.world.bot.id])

    async def rpc_contact_alias(self, request: pb.ContactAliasRequest) -> pb.ContactAliasResponse:
        contact = self._contact(request.id)
        if request.alias is not None:
            contact.alias = request.alias
        return pb.ContactAliasResponse(alias=contact.alias)

    async def rpc_contact_avatar(self, request: pb.ContactAvatarRequest) -> pb.ContactAvatarResponse:
        self._contact(request.id)
        return pb.ContactAvatarResponse(filebox=base64_filebox(f"avatar-{request.id}.png", TINY_PNG))

    async def rpc_contact_phone(self, request: pb.ContactPhoneRequest) -> pb.ContactPhoneResponse:
        return pb.ContactPhoneResponse(phone_list=request.phone_list)

    async def rpc_contact_corporation_remark(self, request: Any) -> pb.ContactCorporationRemarkResponse:
        return pb.ContactCorporationRemarkResponse()

    async def rpc_contact_description(self, request: Any) -> pb.ContactDescriptionResponse:
        return pb.ContactDescriptionResponse()

    async def rpc_contact_self_qr_code(self, request: Any) -> pb.ContactSelfQrCodeResponse:
        return pb.ContactSelfQrCodeResponse(qrcode=f"https://sim.invalid/qr/{self.world.bot.id}")

    async def rpc_contact_self_name(self, request: pb.ContactSelfNameRequest) -> pb.ContactSelfNameResponse:
        self.world.bot.name = request.name
        return pb.ContactSelfNameResponse()

    async def rpc_contact_self_signature(self, request: Any) -> pb.ContactSelfSignatureResponse:
        return pb.ContactSelfSignatureResponse()

    # ---- friendship ----

    async def rpc_friendship_payload(self, request: pb.FriendshipPayloadRequest) -> pb.FriendshipPayloadResponse:
        friend_request = self.world.friend_requests.get(request.id)
        if friend_request is None:
            raise GRPCError(Status.NOT_FOUND, f"friendship {request.id!r} not found")
        return pb.FriendshipPayloadResponse(
            id=friend_request.id, contact_id=friend_request.contact_id, hello=friend_request.hello,
            type=pb.FriendshipType.FRIENDSHIP_TYPE_RECEIVE,
            scene=pb.FriendshipSceneType.FRIENDSHIP_SCENE_TYPE_QRCODE)

    async def rpc_friendship_search_phone(self, request: Any) -> pb.FriendshipSearchPhoneResponse:
        return pb.FriendshipSearchPhoneResponse(contact_id=None)

    async def rpc_friendship_search_weixin(self, request: pb.FriendshipSearchWeixinRequest
                                           ) -> pb.FriendshipSearchWeixinResponse:
        found = request.weixin if request.weixin in self.world.contacts else None
        return pb.FriendshipSearchWeixinResponse(contact_id=found)

    async def rpc_friendship_add(self, request: pb.FriendshipAddRequest) -> pb.FriendshipAddResponse:
        log.info("bot asked %s to be friends", request.contact_id)
        return pb.FriendshipAddResponse()

    async def rpc_friendship_accept(self, request: pb.FriendshipAcceptRequest) -> pb.FriendshipAcceptResponse:
        if request.id not in self.world.friend_requests:
            raise GRPCError(Status.NOT_FOUND, f"friendship {request.id!r} not found")
        self.world.accept_friend_request(request.id)
        return pb.FriendshipAcceptResponse()

    # ---- messages: reading ----

    def _message(self, message_id: str) -> SimMessage:
        message = self.world.messages.get(message_id)
        if message is None:
            raise GRPCError(Status.NOT_FOUND, f"message {message_id!r} not found")
        return message

    async def rpc_message_payload(self, request: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        if self.options.payload_seconds:
            await asyncio.sleep(self.options.payload_seconds)
        m = self._message(request.id)
        return pb.MessagePayloadResponse(
            id=m.id, filename=m.filename, text=m.text, timestamp=int(m.at.timestamp() * 1000),
            type=TS_MESSAGE_TYPE.get(m.kind, 0), from_id=m.from_id, room_id=m.room_id, to_id=m.to_id,
            mention_ids=list(m.mention_ids))

    def _attachment(self, m: SimMessage, default_name: str) -> str:
        name = m.filename or default_name
        if self.options.attachments == "base64":
            return base64_filebox(name, m.data)
        return url_filebox(name, self.world.media_url(m.id))

    async def rpc_message_image(self, request: pb.MessageImageRequest) -> pb.MessageImageResponse:
        m = self._message(request.id)
        return pb.MessageImageResponse(filebox=self._attachment(m, f"{m.id}.png"))

    async def rpc_message_file(self, request: pb.MessageFileRequest) -> pb.MessageFileResponse:
        m = self._message(request.id)
        return pb.MessageFileResponse(filebox=self._attachment(m, m.id))

    async def rpc_message_image_stream(self, stream: Stream) -> None:
        await self._send_file_chunks(stream, pb.MessageImageStreamResponse)

    async def rpc_message_file_stream(self, stream: Stream) -> None:
        await self._send_file_chunks(stream, pb.MessageFileStreamResponse)

    async def _send_file_chunks(self, stream: Stream, response_type: Any) -> None:
        """Puppet-service stream convention: first chunk carries the name, the rest the bytes."""
        request = await stream.recv_message()
        m = self._message(request.id)
        await stream.send_message(response_type(file_box_chunk=pb.FileBoxChunk(name=m.filename or m.id)))
        await stream.send_message(response_type(file_box_chunk=pb.FileBoxChunk(data=m.data)))

    async def rpc_message_contact(self, request: pb.MessageContactRequest) -> pb.MessageContactResponse:
        return pb.MessageContactResponse(id=self._message(request.id).text)  # a card's text is its contact id

    async def rpc_message_url(self, request: pb.MessageUrlRequest) -> pb.MessageUrlResponse:
        m = self._message(request.id)
        return pb.MessageUrlResponse(url_link=json.dumps({"url": m.text, "title": m.filename or m.text}))

    async def rpc_message_mini_program(self, request: Any) -> pb.MessageMiniProgramResponse:
        m = self._message(request.id)
        return pb.MessageMiniProgramResponse(mini_program=json.dumps({"title": m.text}))

    async def rpc_message_forward(self, request: MessageForwardRequest) -> MessageForwardResponse:
        """The bot forwards a message: WeChat sends a copy, from the bot, to the conversation."""
        m = self._message(request.message_id)
        self._check_conversation(request.conversation_id)
        sent = self.world.record_sent(request.conversation_id, m.kind, m.text, filename=m.filename, data=m.data)
        return MessageForwardResponse(id=sent.id)

    async def rpc_message_recall(self, request: pb.MessageRecallRequest) -> pb.MessageRecallResponse:
        message = self.world.messages.get(request.id)
        recalled = message is not None and message.from_id == self.world.bot.id
        return pb.MessageRecallResponse(success=recalled)

    # ---- messages: sending (each is recorded in world.sent) ----

    def _check_conversation(self, conversation_id: str) -> None:
        if conversation_id not in self.world.rooms and conversation_id not in self.world.contacts:
            raise GRPCError(Status.NOT_FOUND, f"conversation {conversation_id!r} not found")

    async def rpc_message_send_text(self, request: pb.MessageSendTextRequest) -> pb.MessageSendTextResponse:
        self._check_conversation(request.conversation_id)
        sent = self.world.record_sent(request.conversation_id, "text", request.text,
                                      mention_ids=request.mentonal_ids)
        return pb.MessageSendTextResponse(id=sent.id)

    async def rpc_message_send_file(self, request: pb.MessageSendFileRequest) -> pb.MessageSendFileResponse:
        self._check_conversation(request.conversation_id)
        box = json.loads(request.filebox)
        name = box.get("name") or "file"
        mime = box.get("mimeType") or mimetypes.guess_type(name)[0] or ""
        sent = self.world.record_sent(request.conversation_id, _kind_of_file(name, mime), "",
                                      filename=name, data=self.media.content_of(box))
        return pb.MessageSendFileResponse(id=sent.id)

    async def rpc_message_send_file_stream(self, stream: Stream) -> None:
        self.calls["MessageSendFileStream"] = self.calls.get("MessageSendFileStream", 0) + 1
        conversation_id, name, data = "", "file", b""
        async for request in stream:
            if request.conversation_id:
                conversation_id = request.conversation_id
            elif request.file_box_chunk.name:
                name = request.file_box_chunk.name
            else:
                data += request.file_box_chunk.data
        self._check_conversation(conversation_id)
        sent = self.world.record_sent(conversation_id, _kind_of_file(name), "", filename=name, data=data)
        await stream.send_message(pb.MessageSendFileStreamResponse(id=sent.id))

    async def rpc_message_send_contact(self, request: pb.MessageSendContactRequest) -> pb.MessageSendContactResponse:
        self._check_conversation(request.conversation_id)
        sent = self.world.record_sent(request.conversation_id, "contact", request.contact_id)
        return pb.MessageSendContactResponse(id=sent.id)

    async def rpc_message_send_url(self, request: pb.MessageSendUrlRequest) -> pb.MessageSendUrlResponse:
        self._check_conversation(request.conversation_id)
        link = json.loads(request.url_link or "{}")
        sent = self.world.record_sent(request.conversation_id, "link", link.get("title") or link.get("url", ""))
        return pb.MessageSendUrlResponse(id=sent.id)

    async def rpc_message_send_mini_program(self, request: Any) -> pb.MessageSendMiniProgramResponse:
        self._check_conversation(request.conversation_id)
        program = json.loads(request.mini_program or "{}")
        sent = self.world.record_sent(request.conversation_id, "mini_program", program.get("title") or "")
        return pb.MessageSendMiniProgramResponse(id=sent.id)

    # ---- rooms ----

    def _room(self, room_id: str):  # type: ignore[no-untyped-def]
        room = self.world.rooms.get(room_id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"room {room_id!r} not found")
        return room

    async def rpc_room_payload(self, request: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self._room(request.id)
        return pb.RoomPayloadResponse(id=room.id, topic=room.topic, owner_id=room.owner_id,
                                      member_ids=list(room.member_ids))

    async def rpc_room_list(self, request: pb.RoomListRequest) -> pb.RoomListResponse:
        bot_id = self.world.bot.id
        return pb.RoomListResponse(ids=[r.id for r in self.world.rooms.values() if bot_id in r.member_ids])

    async def rpc_room_member_list(self, request: pb.RoomMemberListRequest) -> pb.RoomMemberListResponse:
        return pb.RoomMemberListResponse(member_ids=list(self._room(request.id).member_ids))

    async def rpc_room_member_payload(self, request: pb.RoomMemberPayloadRequest) -> pb.RoomMemberPayloadResponse:
        room = self._room(request.id)
        if request.member_id not in room.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{request.member_id!r} is not in room {room.id!r}")
        contact = self._contact(request.member_id)
        return pb.RoomMemberPayloadResponse(id=contact.id, name=contact.name)

    async def rpc_room_add(self, request: pb.RoomAddRequest) -> pb.RoomAddResponse:
        self._room(request.id)
        self._contact(request.contact_id)
        self.world.inject_join(request.id, [request.contact_id], self.world.bot.id)
        return pb.RoomAddResponse()

    async def rpc_room_del(self, request: pb.RoomDelRequest) -> pb.RoomDelResponse:
        self._room(request.id)
        self.world.inject_leave(request.id, [request.contact_id], remover_id=self.world.bot.id)
        return pb.RoomDelResponse()

    async def rpc_room_quit(self, request: pb.RoomQuitRequest) -> pb.RoomQuitResponse:
        room = self._room(request.id)
        if self.world.bot.id in room.member_ids:
            room.member_ids.remove(self.world.bot.id)
        return pb.RoomQuitResponse()

    async def rpc_room_create(self, request: pb.RoomCreateRequest) -> pb.RoomCreateResponse:
        room = self.world.add_room(self.world.new_id("room"), request.topic, request.contact_ids)
        return pb.RoomCreateResponse(id=room.id)

    async def rpc_room_topic(self, request: pb.RoomTopicRequest) -> pb.RoomTopicResponse:
        room = self._room(request.id)
        if request.topic is not None and request.topic != room.topic:
            self.world.inject_topic(room.id, request.topic, self.world.bot.id)
        return pb.RoomTopicResponse(topic=room.topic)

    async def rpc_room_announce(self, request: pb.RoomAnnounceRequest) -> pb.RoomAnnounceResponse:
        room = self._room(request.id)
        if request.text is not None:
            room.announcement = request.text
        return pb.RoomAnnounceResponse(text=room.announcement)

    async def rpc_room_avatar(self, request: pb.RoomAvatarRequest) -> pb.RoomAvatarResponse:
        # The SDK insists on a remoteUrl FileBox here (PuppetService.room_avatar).
        self._room(request.id)
        return pb.RoomAvatarResponse(filebox=url_filebox(f"avatar-{request.id}.png", self.media.avatar_url(request.id)))

    async def rpc_room_qr_code(self, request: Any) -> pb.RoomQrCodeResponse:
        return pb.RoomQrCodeResponse(qrcode=f"https://sim.invalid/qr/{request.id or 'room'}")

    async def rpc_room_invitation_payload(self, request: pb.RoomInvitationPayloadRequest
                                          ) -> pb.RoomInvitationPayloadResponse:
        invite = self.world.room_invites.get(request.id)
        if invite is None:
            raise GRPCError(Status.NOT_FOUND, f"room invitation {request.id!r} not found")
        room = self._room(invite.room_id)
        # Every field filled, as real services do. The SDK's PuppetService.room_invitation_payload
        # cannot read that (RoomInvitationPayload(**response.to_dict()) meets camelCase keys such
        # as inviterId); a client must read the stub's response itself.
        members = [cid for cid in room.member_ids if cid != self.world.bot.id]
        return pb.RoomInvitationPayloadResponse(
            id=invite.id, inviter_id=invite.inviter_id, topic=room.topic, member_count=len(members),
            member_ids=members, timestamp=int(invite.at.timestamp() * 1000),
            avatar=self.media.avatar_url(room.id), receiver_id=self.world.bot.id,
            invitation=json.dumps({"roomId": room.id, "inviterId": invite.inviter_id}))

    async def rpc_room_invitation_accept(self, request: pb.RoomInvitationAcceptRequest
                                         ) -> pb.RoomInvitationAcceptResponse:
        if request.id not in self.world.room_invites:
            raise GRPCError(Status.NOT_FOUND, f"room invitation {request.id!r} not found")
        self.world.accept_room_invite(request.id)
        return pb.RoomInvitationAcceptResponse()

    # ---- tags ----

    async def rpc_tag_contact_add(self, request: pb.TagContactAddRequest) -> pb.TagContactAddResponse:
        self._tags.setdefault(request.id, set()).add(request.contact_id)
        return pb.TagContactAddResponse()

    async def rpc_tag_contact_remove(self, request: pb.TagContactRemoveRequest) -> pb.TagContactRemoveResponse:
        self._tags.get(request.id, set()).discard(request.contact_id)
        return pb.TagContactRemoveResponse()

    async def rpc_tag_contact_delete(self, request: pb.TagContactDeleteRequest) -> pb.TagContactDeleteResponse:
        self._tags.pop(request.id, None)
        return pb.TagContactDeleteResponse()

    async def rpc_tag_contact_list(self, request: pb.TagContactListRequest) -> pb.TagContactListResponse:
        if request.contact_id is None:
            return pb.TagContactListResponse(ids=sorted(self._tags))
        return pb.TagContactListResponse(ids=sorted(t for t, ids in self._tags.items() if request.contact_id in ids))


def _route_names() -> list[str]:
    """The routes PuppetStub calls, read from the generated stub so a new one cannot be missed."""
    return re.findall(r'"/wechaty\.Puppet/(\w+)"', inspect.getsource(PuppetStub))


def _snake(route: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", route).lower()
