"""The cues of lexicon.yaml: emergency kinds, scam families, signals and decisive cues.

A plain cue is a substring test (str `in`, a C scan); only `re:` cues run the regex engine. A
big alternation of literals would be slower: Python's re tries every branch at every position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot import yamlfile

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")


@dataclass(frozen=True)
class Group:
    name: str
    cues: tuple[str, ...]
    literals: tuple[str, ...]  # plain cues: `in` on a str is a fast C scan
    patterns: tuple[re.Pattern, ...]  # the `re:` cues
    service: str | None = None  # emergency kinds only

    def search(self, norm: str) -> bool:
        return any(c in norm for c in self.literals) or any(p.search(norm) for p in self.patterns)

    def count(self, norm: str) -> int:
        return sum(c in norm for c in self.literals) + sum(p.search(norm) is not None for p in self.patterns)


def _regex(cue: str) -> str:
    return cue[3:] if cue.startswith("re:") else re.escape(cue.lower())


def _group(name: str, cues: list, service: str | None = None) -> Group:
    cues = [str(c) for c in cues]
    literals = tuple(c.lower() for c in cues if not c.startswith("re:"))
    patterns = tuple(re.compile(c[3:]) for c in cues if c.startswith("re:"))
    return Group(name, tuple(cues), literals, patterns, service)


@dataclass(frozen=True)
class Lexicon:
    emergency: tuple[Group, ...]
    scam: tuple[Group, ...]
    signals: tuple[Group, ...]
    decisive: Group

    def all_groups(self) -> tuple[Group, ...]:
        return self.emergency + self.scam + self.signals + (self.decisive,)

    def __post_init__(self) -> None:
        # Plain cues by their first character: a message tries only the cues that can start at
        # one of its characters (a few dozen of ~600), each a C substring scan.
        by_char: dict[str, list[tuple[str, int]]] = {}
        for gi, group in enumerate(self.all_groups()):
            for cue in group.literals:
                by_char.setdefault(cue[0], []).append((cue, gi))
        object.__setattr__(self, "_by_char", by_char)
        # A pattern written only in ASCII (a link, a phone number, "120") cannot match a text
        # without an ASCII letter or digit, as most messages are: those skip it.
        object.__setattr__(self, "_regex_groups",
                           [(gi, tuple(p for p in g.patterns if not _needs_ascii(p)), g.patterns)
                            for gi, g in enumerate(self.all_groups()) if g.patterns])

    def present(self, norm: str) -> frozenset[int]:
        """Indices (in all_groups order) of the groups with at least one cue in `norm`."""
        found: set[int] = set()
        by_char = self._by_char
        for ch in set(norm):
            for cue, gi in by_char.get(ch, ()):
                if gi not in found and cue in norm:
                    found.add(gi)
        ascii_text = _ASCII_ALNUM.search(norm) is not None
        for gi, any_text, patterns in self._regex_groups:
            if gi not in found and any(p.search(norm) for p in (patterns if ascii_text else any_text)):
                found.add(gi)
        return frozenset(found)


_ASCII_ALNUM = re.compile(r"[0-9a-z]|\d")
_LOOKAROUND_START = re.compile(r"\(\?<?[=!]")


def _without_lookarounds(pattern: str) -> str:
    """The pattern with its lookaround groups, nested ones included, cut out."""
    out, i = [], 0
    while (m := _LOOKAROUND_START.search(pattern, i)) is not None:
        out.append(pattern[i:m.start()])
        depth, j = 1, m.end()
        while j < len(pattern) and depth:
            if pattern[j] == "\\":
                j += 1
            elif pattern[j] == "(":
                depth += 1
            elif pattern[j] == ")":
                depth -= 1
            j += 1
        i = j
    return "".join(out) + pattern[i:]


def _needs_ascii(pattern: re.Pattern) -> bool:
    """True when every character the pattern must match is ASCII and it names a letter or digit
    (lookarounds aside): "(?<!\\d)120(?!块|元)", "https?://", "1[3-9]\\d{9}"."""
    body = _without_lookarounds(pattern.pattern)
    return body.isascii() and re.search(r"\\d|[0-9a-z]", body) is not None


@lru_cache(maxsize=4)
def lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    raw = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    return Lexicon(
        emergency=tuple(_group(k, v["cues"], str(v["service"])) for k, v in raw["emergency"].items()),
        scam=tuple(_group(k, v) for k, v in raw["scam"].items()),
        signals=tuple(_group(k, v) for k, v in raw["signals"].items()),
        decisive=_group("decisive", raw["decisive"]),
    )


def cue_matches(cue: str, text: str) -> bool:
    return re.search(_regex(str(cue)), text) is not None


@lru_cache(maxsize=512)
def present(norm: str) -> tuple[frozenset[str], frozenset[str], frozenset[str], bool]:
    """(emergency kinds, scam families, signals, decisive) named in normalised text; cached
    because one classification asks several times."""
    lex = lexicon()
    hits = lex.present(norm)
    ne, ns, nsig = len(lex.emergency), len(lex.scam), len(lex.signals)
    groups = lex.all_groups()
    pick = lambda lo, hi: frozenset(groups[i].name for i in hits if lo <= i < hi)  # noqa: E731
    return (pick(0, ne), pick(ne, ne + ns), pick(ne + ns, ne + ns + nsig), (ne + ns + nsig) in hits)


def signals(norm: str) -> frozenset[str]:
    """Names of the signal groups present in normalised text."""
    return present(norm)[2]


def _best(groups: tuple[Group, ...], norm: str, named: frozenset[str]) -> Group | None:
    """The group with the most cues present; ties go to the earlier group."""
    best, best_n = None, 0
    for g in groups:
        n = g.count(norm) if g.name in named else 0
        if n > best_n:
            best, best_n = g, n
    return best


def emergency_kind(norm: str) -> Group | None:
    return _best(lexicon().emergency, norm, present(norm)[0])


def scam_family(norm: str) -> str | None:
    found = _best(lexicon().scam, norm, present(norm)[1])
    return found.name if found else None


def decisive(norm: str) -> bool:
    return present(norm)[3]
