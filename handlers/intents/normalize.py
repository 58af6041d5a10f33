"""Text clean-up shared by the rules and the model."""

from __future__ import annotations

import re
import unicodedata

# Group messages are short; anything longer is a forward or spam wall. Classifying only
# the head keeps the cost of a 100 KB message bounded and predictable.
MAX_CHARS = 1000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACE = re.compile(r"\s+")


def normalize(text: str | None) -> str:
    """NFKC folds full-width forms (？ → ?, ＱＱ → QQ) so one pattern covers both."""
    if not text:
        return ""
    text = text[: MAX_CHARS * 2]  # cheap pre-cut before the O(n) passes below
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text)
    text = _SPACE.sub(" ", text).strip().lower()
    return text[:MAX_CHARS]
