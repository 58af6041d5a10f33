"""Weighted keyword and pattern rules loaded from lexicon.yaml."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
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


def score(text: str) -> RuleScores:
    """Sum the weights of every cue present in normalised `text`."""
    result = RuleScores()
    boost = 0.0
    for cue in load_cues():
        if not cue.matches(text):
            continue
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
