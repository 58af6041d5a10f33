"""The guide's entries: the built-in library (library.yaml), config.yaml's `guide:`, and what officers
added or changed in chat (the database), merged in that order, a later one replacing an earlier
one of the same id.

Built-in answers are general guidance written once for every community; they name the local police
post and station through placeholders filled from config (bot.police_post_address ...), and they
are sent marked “具体以窗口为准”. Answers from config or officers are local and sent as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot import yamlfile
from handlers.guide.texts import LOCAL

LIBRARY = Path(__file__).with_name("library.yaml")
ASKING = Path(__file__).with_name("asking.yaml")  # more ways of asking, for matching only
UNRELATED = Path(__file__).with_name("unrelated.yaml")  # questions no entry answers
BUILTIN, CONFIG, OFFICER_ADDED = "builtin", "config", "officer"


class LibraryEntry(BaseModel):
    """One entry of library.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")
    title: str = Field(min_length=1)
    keywords: list[str] = []
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=1)
    service: str | None = None

    @field_validator("keywords", "questions", mode="before")
    @classmethod
    def _as_text(cls, value):  # YAML reads 96110 and 12123 as numbers
        return [str(v) for v in value] if isinstance(value, list) else value


@dataclass(frozen=True)
class Entry:
    """An entry as the guide uses it, wherever it came from."""

    id: str
    title: str
    keywords: tuple[str, ...]
    questions: tuple[str, ...]
    answer: str  # may hold {post} ... placeholders (see render)
    source: str  # BUILTIN | CONFIG | OFFICER_ADDED
    service: str | None = None
    general: bool = False  # a built-in answer nobody local has rewritten: sent as general guidance
    asked: tuple[str, ...] = ()  # more ways of asking (asking.yaml): matched on, never listed

    @property
    def topic(self) -> str:
        """What officers call it in reports and registers (a config entry's title is its topic,
        see from_config; built-in titles are distinct, “身份证丢了补办”, where services are not)."""
        return self.title


@lru_cache(maxsize=1)
def builtin_entries() -> tuple[Entry, ...]:
    """library.yaml, read once per process (a broken file fails the start, naming the entry)."""
    raw = yamlfile.safe_load(LIBRARY.read_text(encoding="utf-8"))
    asking = _ways_of_asking({item.get("id") for item in raw})
    entries = []
    for i, item in enumerate(raw):
        try:
            e = LibraryEntry.model_validate(item)
        except ValueError as exc:
            raise ValueError(f"{LIBRARY.name}[{i}] ({item.get('id', '?')}): {exc}") from exc
        entries.append(Entry(e.id, e.title, tuple(e.keywords), tuple(e.questions), e.answer.strip(), BUILTIN,
                             e.service, general=True, asked=asking.get(e.id, ())))
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{LIBRARY.name}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return tuple(entries)


def _ways_of_asking(ids: set[str]) -> dict[str, tuple[str, ...]]:
    raw = yamlfile.safe_load(ASKING.read_text(encoding="utf-8")) or {}
    if unknown := sorted(set(raw) - ids):
        raise ValueError(f"{ASKING.name}: not entries of {LIBRARY.name}: {', '.join(unknown)}")
    return {key: tuple(str(q) for q in value or ()) for key, value in raw.items()}


@lru_cache(maxsize=1)
def unrelated_questions() -> tuple[str, ...]:
    """Questions no built-in entry answers (unrelated.yaml): where the guide ends."""
    return tuple(str(q) for q in yamlfile.safe_load(UNRELATED.read_text(encoding="utf-8")) or ())


def builtin_title(entry_id: str) -> str | None:
    return next((e.topic for e in builtin_entries() if e.id == entry_id), None)


def from_config(item) -> Entry:
    """A `guide:` entry of config.yaml (handlers.guide.plugin.GuideEntry)."""
    return Entry(item.id, item.topic, tuple(item.keywords), tuple(item.questions), item.answer, CONFIG,
                 item.service)


def with_config(builtin: list[Entry], items: list) -> list[Entry]:
    """Config entries after the built-in ones. One with a built-in id replaces that entry's answer
    and keeps its ways of asking (plus its own), so a local answer needs no new questions."""
    base = {e.id: e for e in builtin}
    layer = []
    for item in items:
        entry, old = from_config(item), base.get(item.id)
        if old is not None:
            entry = replace(entry, title=item.title or old.title, service=item.service or old.service, asked=old.asked,
                            keywords=old.keywords + tuple(k for k in entry.keywords if k not in old.keywords),
                            questions=old.questions + tuple(q for q in entry.questions if q not in old.questions))
        layer.append(entry)
    return merge(builtin, layer)


def merge(*layers: list[Entry]) -> list[Entry]:
    """Later layers replace earlier entries of the same id; order of first appearance is kept."""
    merged: dict[str, Entry] = {}
    for layer in layers:
        for entry in layer:
            merged[entry.id] = entry
    return list(merged.values())


def edited(entry: Entry, *, answer: str | None = None, questions: tuple[str, ...] = (),
           title: str | None = None) -> Entry:
    """An officer's change: a new answer is local (no longer general), new questions are added."""
    return replace(entry, answer=answer if answer is not None else entry.answer,
                   general=entry.general and answer is None,
                   questions=entry.questions + tuple(q for q in questions if q not in entry.questions),
                   title=title or entry.title)


@dataclass(frozen=True)
class LocalFacts:
    """The police post and station of this community, from config (bot: ...)."""

    post: str
    post_address: str = ""
    post_hours: str = ""
    post_phone: str = ""
    station: str = ""
    station_address: str = ""
    station_hours: str = ""
    station_phone: str = ""

    @classmethod
    def of(cls, bot) -> LocalFacts:
        return cls(**{f: getattr(bot, name, "") or "" for f, name in (
            ("post", "police_post"), ("post_address", "police_post_address"), ("post_hours", "police_post_hours"),
            ("post_phone", "police_post_phone"), ("station", "police_station"),
            ("station_address", "police_station_address"), ("station_hours", "police_station_hours"),
            ("station_phone", "police_station_phone"))})

    def values(self) -> dict[str, str]:
        return {
            "post": _place(self.post or LOCAL["post"], self.post_address),
            "post_hours": self.post_hours or LOCAL["hours_unknown"],
            "post_phone": LOCAL["phone"].format(phone=self.post_phone) if self.post_phone else "",
            "station": _place(self.station or LOCAL["station"], self.station_address),
            "station_hours": self.station_hours or LOCAL["hours_unknown"],
            "station_phone": LOCAL["phone"].format(phone=self.station_phone) if self.station_phone else "",
        }


def _place(name: str, address: str) -> str:
    return f"{name}（{address}）" if address else name


class _Keep(dict):
    def __missing__(self, key: str) -> str:  # an officer's “{…}” that is no placeholder stays as typed
        return "{" + key + "}"


def render(entry: Entry, facts: LocalFacts) -> str:
    text = entry.answer.format_map(_Keep(facts.values())) if "{" in entry.answer else entry.answer
    return text + LOCAL["general"] if entry.general else text
