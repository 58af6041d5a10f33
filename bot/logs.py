"""Structured logging: one JSON object per line, personal numbers masked in every line."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

from bot.masking import mask_text

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

# What database errors quote of the rows they were writing: SQLAlchemy's "[parameters: ...]"
# (hidden at the engine too, storage.db), PostgreSQL's "Key (col)=(value)" and "Failing row
# contains (...)" details. A tip's text or a reporter's id must never reach a log this way.
_REDACTIONS = [
    (re.compile(r"\[parameters: .*?\](?=\s*(?:\(Background|\n|\\n|$))", re.S), "[parameters hidden]"),
    (re.compile(r"(Key \([^)]*\))=\(.*?\)(?= already exists| is not present| conflicts|\.|$)", re.S), r"\1=(hidden)"),
    (re.compile(r"(Failing row contains )\(.*?\)(?=\.|\n|\\n|$)", re.S), r"\1(hidden)"),
    (re.compile(r"(DETAIL: +).*?(?=\n|\\n|$)"), r"\1(hidden)"),
]


def redact(text: str) -> str:
    """Mask personal numbers and drop the row values database errors quote."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return mask_text(text)


class MaskingJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # Redacting each value, then the whole serialised line, catches numbers in extras and
        # tracebacks too (and a number the JSON escaping would split).
        entry = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(MaskingJsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "aiosqlite", "asyncio", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
