"""Masking of mobile and ID numbers wherever text leaves the bot's hands (logs, group posts)."""

from __future__ import annotations

import re

# 18-character resident ID: 17 digits and a digit or X; checked before phones so that an ID's
# inner digits are not mistaken for a mobile number.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """138****1234: what everyone but the owner sees of a mobile number."""
    return _PHONE_RE.sub(r"\1****\2", phone)


def mask_name(name: str | None) -> str:
    """王阿姨 -> 王**: enough for the officer who knows the case, little for anyone else."""
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


def mask_text(text: str) -> str:
    """Mask every ID and mobile number inside free text."""
    text = _ID_RE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _PHONE_RE.sub(r"\1****\2", text)


def is_mobile(text: str) -> bool:
    return re.fullmatch(r"1[3-9]\d{9}", text) is not None
