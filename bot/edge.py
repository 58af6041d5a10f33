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
    return _SURROGATE.sub("\ufffd", value[:limit]).replace("\x00", "")


def storable_name(value: str) -> str:
    return _NAME_JUNK.sub("", storable_text(value, NAME_MAX * 4)).strip()[:NAME_MAX]


def _plan(cls) -> tuple[tuple[str, str], ...]:
    """The fields of an event class that are checked, with what they hold."""
    kinds = [(f.name, "id" if f.name in _ID_FIELDS else "name" if f.name in _NAME_FIELDS else "text")
             for f in fields(cls) if f.name in _ID_FIELDS | _NAME_FIELDS | _TEXT_FIELDS]
    return tuple(kinds)


_PLANS = {cls: _plan(cls) for cls in EVENTS}


def admit(event):
    """The event as the bot may store it, or None (logged) when one of its ids cannot be kept."""
    plan = _PLANS.get(type(event))
    if plan is None:
        if not isinstance(event, EVENTS):
            return event
        plan = _PLANS[type(event)] = _plan(type(event))  # a subclass: planned once
    changes = {}
    for name, _ in plan:
        value = getattr(event, name)
        if value is None or not isinstance(value, (str, tuple)) or _clean_already(name, value):
            continue
        try:
            new = _clean(name, value)
        except Unstorable:
            log.warning("event dropped: an id that cannot be stored", extra={
                "event": type(event).__name__, "field": name, "length": len(value) if isinstance(value, str) else None})
            return None
        if new != value:
            changes[name] = new
    return replace(event, **changes) if changes else event


def _clean_already(name: str, value) -> bool:
    """What nearly every message is: nothing to change (a shortcut past _clean, same answer)."""
    if not isinstance(value, str) or name == "request_id":
        return False
    if name in _ID_FIELDS:
        return storable_id(value)
    if name in _NAME_FIELDS:
        return len(value) <= NAME_MAX and not _NAME_JUNK.search(value) and not _SURROGATE.search(value) \
            and value == value.strip()
    return len(value) <= TEXT_MAX and "\x00" not in value and not _SURROGATE.search(value)


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
