"""What the core knows of WeChat: incoming messages and events, independent of any transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class MessageKind(str, Enum):
    TEXT = "text"
    IMAGE = "image"
    FILE = "file"
    VOICE = "voice"
    VIDEO = "video"
    LINK = "link"
    MINI_PROGRAM = "mini_program"
    RECALL = "recall"
    EMOTICON = "emoticon"
    OTHER = "other"


@dataclass(frozen=True)
class IncomingMessage:
    id: str
    sender_id: str
    sender_name: str
    text: str
    at: datetime
    room_id: str | None = None  # None: a private chat with the bot
    room_name: str | None = None
    kind: MessageKind = MessageKind.TEXT
    mentions_bot: bool = False
    mentions: tuple[str, ...] = ()
    attachment: bytes | None = None  # for images/files a flow keeps (tips), size-capped upstream
    attachment_name: str | None = None
    attachment_error: str | None = None  # why an image/file sent could not be fetched (attachment is None)

    @property
    def is_private(self) -> bool:
        return self.room_id is None

    @property
    def chat_key(self) -> str:
        """Messages of one conversation are handled in order; this names the conversation."""
        return f"room:{self.room_id}" if self.room_id else f"contact:{self.sender_id}"


@dataclass(frozen=True)
class MemberJoined:
    room_id: str
    room_name: str
    member_ids: tuple[str, ...]
    member_names: tuple[str, ...]
    inviter_id: str | None
    at: datetime


@dataclass(frozen=True)
class RoomRenamed:
    room_id: str
    name: str
    at: datetime


@dataclass(frozen=True)
class MemberLeft:
    room_id: str
    member_ids: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class FriendRequest:
    contact_id: str
    contact_name: str
    hello: str
    at: datetime
    request_id: str = ""


@dataclass(frozen=True)
class RoomInvitation:
    invitation_id: str
    room_name: str
    inviter_id: str
    at: datetime


@dataclass(frozen=True)
class Outgoing:
    """One message the bot sends: to a room (optionally @-ing someone) or to a contact."""

    room_id: str | None
    contact_id: str | None
    text: str
    kind: str = "text"  # text | image | file; for image/file, text is the file path
    mention_ids: tuple[str, ...] = field(default=())
