"""Weighted keyword and pattern rules loaded from lexicon.yaml."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from re import _parser as sre_parse  # private, but the only parser of re's own syntax
from typing import Callable

import yaml

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")

# Intents whose lexicon entries are grouped (service for emergency, scam type for scam).
GROUPED = ("emergency", "scam")


@dataclass(frozen=True)
class Cue:
    intent: str
    group: str | None
    weight: float
    matches: Callable[[str], bool]
    source: str


@dataclass
class RuleScores:
    """Per-intent totals plus the per-group totals needed to fill `detail`."""

    intent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    group: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    hits: list[str] = field(default_factory=list)

    def best_group(self, intent: str, tie_order: tuple[str, ...] = (),
                   only: tuple[str, ...] | None = None) -> str | None:
        groups = {g: s for g, s in self.group.get(intent, {}).items() if only is None or g in only}
        if not groups:
            return None
        top = max(groups.values())
        tied = [g for g, s in groups.items() if s == top]
        for preferred in tie_order:
            if preferred in tied:
                return preferred
        return tied[0]


def _matcher(pattern: str) -> Callable[[str], bool]:
    if pattern.startswith("re:"):
        return re.compile(pattern[3:]).search  # type: ignore[return-value]
    needle = pattern.lower()
    return lambda text: needle in text


def _cues(intent: str, group: str | None, table: dict) -> list[Cue]:
    return [Cue(intent, group, float(w), _matcher(str(p)), str(p)) for p, w in table.items()]


@lru_cache(maxsize=1)
def load_cues(path: Path = LEXICON_PATH) -> tuple[Cue, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cues: list[Cue] = []
    for intent in GROUPED:
        for group, table in raw[intent].items():
            cues += _cues(intent, str(group), table)
    cues += _cues("scam", "_boost", raw["scam_boost"])
    for intent in ("consultation", "appointment", "suggestion", "tip", "dispute", "other"):
        cues += _cues(intent, None, raw[intent])
    for intent, table in raw["dampers"].items():
        cues += _cues(intent, "_damper", table)
    return tuple(cues)


# The index behind score(): a cue can only match a text holding a character its match can
# start with, so a message tries a few dozen of the ~600 cues instead of every one.

_ZERO_WIDTH = (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT)  # ^ $ \b look-arounds


def _starts(items) -> tuple[set[str] | None, bool]:
    """The characters a match of the parsed regex `items` can start with (None: any at all)
    and whether it can match the empty string. Anything unfamiliar gives None: try always."""
    chars: set[str] = set()
    for op, arg in items:
        if op in _ZERO_WIDTH:  # the next item starts the match
            continue
        if op == sre_parse.LITERAL:
            return chars | {chr(arg)}, False
        if op == sre_parse.IN:  # [abc]; ranges, \d and [^...] give up
            if any(kind != sre_parse.LITERAL for kind, _ in arg):
                return None, False
            return chars | {chr(c) for _, c in arg}, False
        if op == sre_parse.BRANCH:  # a|b
            parts, optional = arg[1], False
        elif op == sre_parse.SUBPATTERN and not arg[1]:  # (...) without inline flags
            parts, optional = [arg[3]], False
        elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):  # x? x* x{2,5}
            parts, optional = [arg[2]], arg[0] == 0
        else:
            return None, False
        starts = [_starts(part) for part in parts]
        if any(first is None for first, _ in starts):
            return None, False
        chars = chars.union(*(first for first, _ in starts))
        if not optional and not any(empty for _, empty in starts):
            return chars, False
    return chars, True


def _start_chars(source: str) -> set[str] | None:
    if not source.startswith("re:"):
        return {source.lower()[0]} if source else None
    if re.compile(source[3:]).flags & re.IGNORECASE:
        return None
    chars, can_be_empty = _starts(sre_parse.parse(source[3:]))
    return None if can_be_empty else chars


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[tuple[int, Cue]]], list[tuple[int, Cue]]]:
    """(position, cue) pairs by the characters a match can start with; cues to try always."""
    by_char: dict[str, list[tuple[int, Cue]]] = defaultdict(list)
    always = []
    for i, cue in enumerate(load_cues()):
        chars = _start_chars(cue.source)
        if chars is None:
            always.append((i, cue))
        for c in chars or ():
            by_char[c].append((i, cue))
    return dict(by_char), always


def score(text: str) -> RuleScores:
    """Sum the weights of every cue present in normalised `text`."""
    by_char, always = _index()
    candidates = [pair for c in by_char.keys() & set(text) for pair in by_char[c]]
    matched = {i: cue for i, cue in candidates + always if cue.matches(text)}
    result = RuleScores()
    boost = 0.0
    for cue in (matched[i] for i in sorted(matched)):  # lexicon order: it decides group ties
        result.hits.append(f"{cue.intent}:{cue.source}")
        if cue.group == "_boost":
            boost += cue.weight
            continue
        result.intent[cue.intent] += cue.weight
        if cue.group and cue.group != "_damper":
            result.group[cue.intent][cue.group] += cue.weight
    # A call to action ("加微信", "先交") only makes a scam more likely once a scam-specific
    # cue has fired; on its own it is ordinary chat ("扫码进群领鸡蛋").
    if result.group.get("scam"):
        result.intent["scam"] += boost
    return result
