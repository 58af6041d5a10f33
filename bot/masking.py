"""Masking of mobile and ID numbers wherever text leaves the bot's hands (logs, group posts).

Numbers are matched as people write them: in groups of digits split by spaces or hyphens
(137 0000 1111, 137-0000-1111), after +86 or 0086, in full-width digits (１３７…), with an upper
or lower-case X at the end of an ID, and in the middle of other text (电话13700001111谢谢).
"""

from __future__ import annotations

import re

_D = "[0-9\uff10-\uff19]"  # ASCII and full-width digits (\d would also take other scripts' digits)
_SEP = "[ \t\u00a0\u2005\u3000\\-\u2010-\u2015\uff0d]{0,3}"  # what people put between digit groups
_NOT_DIGIT_BEFORE = "(?<![0-9\uff10-\uff19])"
_NOT_DIGIT_AFTER = "(?![0-9\uff10-\uff19])"

# 18-character resident ID: 17 digits and a digit or X; checked before phones so that an ID's
# inner digits are not mistaken for a mobile number.
_ID_RE = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?<![A-Za-z]){_D}(?:{_SEP}{_D}){{16}}{_SEP}[0-9\uff10-\uff19Xx\uff38\uff58]{_NOT_DIGIT_AFTER}(?![A-Za-z])")
_PHONE_RE = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?P<cc>(?:\\+|\uff0b|00)86{_SEP})?"
    f"[1\uff11]{_SEP}[3-9\uff13-\uff19](?:{_SEP}{_D}){{9}}{_NOT_DIGIT_AFTER}")
_FOLD = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text.translate(_FOLD))


def _mask_id(m: re.Match[str]) -> str:
    d = _digits(m.group(0))
    return d[:6] + "********" + d[-4:]


def _mask_phone(m: re.Match[str]) -> str:
    number = m.group(0)[len(m.group("cc") or ""):]
    d = _digits(number)
    return ("+86 " if m.group("cc") else "") + d[:3] + "****" + d[-4:]


def mask_phone(phone: str) -> str:
    """138****1234: what everyone but the owner sees of a mobile number."""
    return _PHONE_RE.sub(_mask_phone, phone)


def mask_name(name: str | None) -> str:
    """王阿姨 -> 王**: enough for the officer who knows the case, little for anyone else."""
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


def mask_text(text: str) -> str:
    """Mask every ID and mobile number inside free text."""
    return _PHONE_RE.sub(_mask_phone, _ID_RE.sub(_mask_id, text))


def is_mobile(text: str) -> bool:
    return re.fullmatch(r"1[3-9]\d{9}", text) is not None
