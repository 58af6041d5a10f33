"""Parsing officer commands: `/统计 上周`, `＃预约　明天`, `@助手 /帮助` all parse the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PREFIXES = {"/": "/", "／": "/", "#": "#", "＃": "#"}
# WeChat puts "@name" plus a narrow space (U+2005) before the text when someone @-mentions.
_LEADING_MENTIONS = re.compile(r"^(?:@[^\s\u2005]+[\s\u2005]*)+")


@dataclass(frozen=True)
class ParsedCommand:
    prefix: str
    name: str
    args: list[str] = field(default_factory=list)
    rest: str = ""  # everything after the name, inner spacing kept (announcement texts)


def strip_mentions(text: str) -> str:
    """Drop the "@name " WeChat puts in front of a message that @-mentions someone."""
    return _LEADING_MENTIONS.sub("", text.strip()).strip()


def parse_command(text: str) -> ParsedCommand | None:
    text = strip_mentions(text)
    if len(text) < 2 or text[0] not in PREFIXES:
        return None
    body = text[1:].lstrip()
    parts = body.split(maxsplit=1)  # str.split() also splits on the full-width space U+3000
    if not parts:
        return None
    rest = parts[1].strip() if len(parts) > 1 else ""
    return ParsedCommand(PREFIXES[text[0]], parts[0], rest.split(), rest)
