"""The cues of lexicon.yaml: emergency kinds, scam families, signals and decisive cues.

Each group of cues is one compiled alternation, so a message costs one regex search per group
(about forty), whatever the number of cues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")


@dataclass(frozen=True)
class Group:
    name: str
    pattern: re.Pattern
    cues: tuple[str, ...]
    service: str | None = None  # emergency kinds only
    each: tuple[re.Pattern, ...] = ()  # one per cue, to count how many are present

    def count(self, norm: str) -> int:
        return sum(1 for p in self.each if p.search(norm)) if self.pattern.search(norm) else 0


def _regex(cue: str) -> str:
    return cue[3:] if cue.startswith("re:") else re.escape(cue.lower())


def _group(name: str, cues: list, service: str | None = None) -> Group:
    cues = [str(c) for c in cues]
    return Group(name, re.compile("|".join(f"(?:{_regex(c)})" for c in cues)), tuple(cues), service,
                 tuple(re.compile(_regex(c)) for c in cues))


@dataclass(frozen=True)
class Lexicon:
    emergency: tuple[Group, ...]
    scam: tuple[Group, ...]
    signals: tuple[Group, ...]
    decisive: Group

    def all_groups(self) -> tuple[Group, ...]:
        return self.emergency + self.scam + self.signals + (self.decisive,)


@lru_cache(maxsize=4)
def lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Lexicon(
        emergency=tuple(_group(k, v["cues"], str(v["service"])) for k, v in raw["emergency"].items()),
        scam=tuple(_group(k, v) for k, v in raw["scam"].items()),
        signals=tuple(_group(k, v) for k, v in raw["signals"].items()),
        decisive=_group("decisive", raw["decisive"]),
    )


def cue_matches(cue: str, text: str) -> bool:
    return re.search(_regex(str(cue)), text) is not None


def signals(norm: str) -> list[str]:
    """Names of the signal groups present in normalised text."""
    return [g.name for g in lexicon().signals if g.pattern.search(norm)]


def _best(groups: tuple[Group, ...], norm: str) -> Group | None:
    """The group with the most cues present; ties go to the earlier group."""
    best, best_n = None, 0
    for g in groups:
        n = g.count(norm)
        if n > best_n:
            best, best_n = g, n
    return best


def emergency_kind(norm: str) -> Group | None:
    return _best(lexicon().emergency, norm)


def scam_family(norm: str) -> str | None:
    found = _best(lexicon().scam, norm)
    return found.name if found else None


def decisive(norm: str) -> bool:
    return lexicon().decisive.pattern.search(norm) is not None
