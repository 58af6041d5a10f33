"""What comes in from WeChat is made storable before anything reads it.

A gateway (or a broken client) can send identifiers and names no database takes: lone
surrogates (unencodable in UTF-8, so every later write that carries them fails), control
characters, names longer than the columns (PostgreSQL refuses more than 128 characters, SQLite
takes anything: the same input must behave the same on both). Checking once here, at the door,
keeps every handler, the tally and the outbox from meeting them:

- an event whose identifier cannot be stored is dropped, with one log line;
- names and texts keep what can be stored: lone surrogates become U+FFFD, control characters go,
  names are cut to the column's length.
"""

from __future__ import annotations

import logging
import re
from dataclasses import fields, replace

from bot.messages import FriendRequest, IncomingMessage, MemberJoined, MemberLeft, RoomInvitation, RoomRenamed

log = logging.getLogger(__name__)

ID_MAX = 128  # contacts.id, rooms.id (String(128) on both databases)
NAME_MAX = 128  # contacts.name, rooms.name
TEXT_MAX = 20_000  # what is kept of a text before the router reads (and caps) it

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NAME_JUNK = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

_ID_FIELDS = {"id", "sender_id", "room_id", "contact_id", "inviter_id", "invitation_id", "request_id",
              "member_ids", "mentions"}
_NAME_FIELDS = {"sender_name", "room_name", "name", "contact_name", "member_names"}
_TEXT_FIELDS = {"text", "hello", "attachment_name", "attachment_error"}
EVENTS = (IncomingMessage, MemberJoined, MemberLeft, RoomRenamed, FriendRequest, RoomInvitation)


class Unstorable(ValueError):
    """An identifier no database can keep (the event is dropped)."""


def storable_id(value: str) -> bool:
    return 0 < len(value) <= ID_MAX and not _SURROGATE.search(value) and "\x00" not in value


def storable_text(value: str, limit: int = TEXT_MAX) -> str:
    if len(value) <= limit and "\x00" not in value and not _SURROGATE.search(value):
        return value  # nearly every text: nothing to change, and no copy made
    return _SURROGATE.sub("\ufffd", value[:limit]).replace("\x00", "")


def storable_name(value: str) -> str:
    if len(value) <= NAME_MAX and not _NAME_JUNK.search(value) and not _SURROGATE.search(value) \
            and value == value.strip():
        return value  # nearly every name: nothing to change
    return _NAME_JUNK.sub("", storable_text(value, NAME_MAX * 4)).strip()[:NAME_MAX]


def _checked_fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name in _ID_FIELDS | _NAME_FIELDS | _TEXT_FIELDS)


_CHECKED = {cls: _checked_fields(cls) for cls in EVENTS}


def admit(event):
    """The event as the bot may store it, or None (logged) when one of its ids cannot be kept."""
    checked = _CHECKED.get(type(event))
    if checked is None:
        if not isinstance(event, EVENTS):
            return event
        checked = _CHECKED[type(event)] = _checked_fields(type(event))  # a subclass: listed once
    changes = {}
    for name in checked:
        value = getattr(event, name)
        if value is None or not isinstance(value, (str, tuple)):
            continue
        try:
            new = _clean(name, value)
        except Unstorable:
            log.warning("event dropped: an id that cannot be stored", extra={
                "event": type(event).__name__, "field": name, "length": len(value) if isinstance(value, str) else None})
            return None
        if new is not value and new != value:
            changes[name] = new
    return replace(event, **changes) if changes else event


def _clean(name: str, value):
    if isinstance(value, tuple):
        return tuple(_clean(name, v) for v in value)
    if name in _ID_FIELDS:
        if name == "request_id" and value == "":
            return value
        if not storable_id(value):
            raise Unstorable(name)
        return value
    if name in _NAME_FIELDS:
        return storable_name(value)
    if name in _TEXT_FIELDS:
        return storable_text(value)
    return value


MAX_NUMBER_DIGITS = 9  # numbers in commands (row numbers, counts): nothing the bot keeps is longer


def small_int(text: str) -> int | None:
    """A number someone typed as a command argument, or None: not decimal digits ('²' passes
    str.isdigit but not int()), or longer than any row number (too large for SQLite's INTEGER)."""
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= MAX_NUMBER_DIGITS else None


def oversized_number(arguments: dict[str, str]) -> bool:
    """Whether a command's parsed arguments hold a number too long for any row."""
    return any(v.isdecimal() and len(v) > MAX_NUMBER_DIGITS for v in arguments.values())
