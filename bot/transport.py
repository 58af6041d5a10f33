"""The Transport interface the core talks to, and an in-memory fake for tests and benchmarks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable, Union

from bot.messages import (
    FriendRequest, IncomingMessage, MemberJoined, MemberLeft, Outgoing, RoomInvitation, RoomRenamed,
)

Event = Union[IncomingMessage, MemberJoined, MemberLeft, RoomRenamed, FriendRequest, RoomInvitation]
EventSink = Callable[[Event], Awaitable[None]]


class TransportError(Exception):
    """A send or lookup failed; the outbox retries with backoff."""


@dataclass(frozen=True)
class RoomInfo:
    id: str
    name: str
    member_count: int


@dataclass(frozen=True)
class SentRecord:
    at: datetime
    out: Outgoing
    data: bytes | None = None  # image/file: the file as it was when sent (a real send reads it then)


class Transport(ABC):
    bot_id: str = "bot"
    bot_name: str = "警民群助手"

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    @abstractmethod
    async def start(self, sink: EventSink) -> None:
        """Begin delivering events to `sink`; returns once connected (or raises)."""

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def send(self, out: Outgoing) -> None:
        """Deliver one message; raise TransportError when it did not go out."""

    @abstractmethod
    async def list_rooms(self) -> list[RoomInfo]: ...

    async def accept_friend(self, request: FriendRequest) -> None:  # noqa: B027 - optional
        pass

    async def accept_invitation(self, invitation: RoomInvitation) -> None:  # noqa: B027
        pass


class MemoryTransport(Transport):
    """Delivers injected events straight to the bot and records what it sends."""

    def __init__(self, now: Callable[[], datetime], rooms: list[RoomInfo] | None = None) -> None:
        self._now = now
        self._sink: EventSink | None = None
        self._rooms = list(rooms or [])
        self.sent: list[SentRecord] = []
        self.failures_to_inject = 0
        self.accept_failures_to_inject = 0
        self.accepted_friends: list[str] = []
        self.accepted_invitations: list[str] = []

    @property
    def connected(self) -> bool:
        return self._sink is not None

    async def start(self, sink: EventSink) -> None:
        self._sink = sink

    async def stop(self) -> None:
        self._sink = None

    async def deliver(self, event: Event) -> None:
        if self._sink is None:
            raise TransportError("transport is not started")
        await self._sink(event)

    async def send(self, out: Outgoing) -> None:
        if self.failures_to_inject > 0:
            self.failures_to_inject -= 1
            raise TransportError("simulated send failure")
        data = None
        if out.kind in ("image", "file") and Path(out.text).is_file():
            data = Path(out.text).read_bytes()
        self.sent.append(SentRecord(self._now(), out, data))

    async def list_rooms(self) -> list[RoomInfo]:
        return list(self._rooms)

    async def accept_friend(self, request: FriendRequest) -> None:
        if self.accept_failures_to_inject > 0:
            self.accept_failures_to_inject -= 1
            raise TransportError("simulated accept failure")
        self.accepted_friends.append(request.contact_id)

    async def accept_invitation(self, invitation: RoomInvitation) -> None:
        self.accepted_invitations.append(invitation.invitation_id)
