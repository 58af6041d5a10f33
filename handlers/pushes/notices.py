"""Anti-fraud notice library: loading, validation and rotation.

One notice per YAML file under ``notices/`` (see ``default_notice_dir()``);
a district can add its own directories.  A file looks like::

    id: shuadan-dianzan            # must equal the file name without .yaml
    type: 刷单返利                  # one of FRAUD_TYPES
    title: 点赞关注就给钱？小心刷单陷阱
    text: |                        # at most 300 characters, must name 96110 or 110
      ...
    tags: [学生, 暑假]              # optional, from KNOWN_TAGS
    season: {months: [7, 8]}       # optional

``pick_notice`` rotates through the library without repeating recent sends and
prefers notices that fit the date (a 春节前 ticket-scam notice in January, not in July).

Officers also add notices in chat (``/反诈 新增``, stored in the database as ``custom-<n>``) and
stop built-in ones; ``rotation_library`` joins both for the rotation (``delivery.current_library``
reads them from the database).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot import yamlfile

FRAUD_TYPES = (
    "刷单返利", "虚假投资理财", "虚假网络贷款", "冒充电商物流客服", "冒充公检法",
    "虚假征信", "网络游戏虚假交易", "网络婚恋交友", "冒充领导熟人", "虚假购物服务",
)
MAX_TEXT_CHARS = 300
# Notices officers add in chat (/反诈 新增) are "custom-<number>"; no file may take such an id.
CUSTOM_PREFIX = "custom-"
# Every file notice names 96110 or 110; an officer's few lines get this line when they do not.
CALL_LINE = "遇到可疑情况，请拨打96110反诈专线咨询，紧急情况请拨打110。"

# Seasonal tags and the (month, day) windows in which they are topical, inclusive;
# a window may wrap over New Year.  春节前 moves with the lunar calendar and is computed.
_TAG_WINDOWS: dict[str, tuple[tuple[tuple[int, int], tuple[int, int]], ...]] = {
    "开学季": (((8, 15), (9, 30)), ((2, 10), (3, 15))),
    "毕业季": (((5, 20), (7, 31)),),
    "暑假": (((7, 1), (8, 31)),),
    "寒假": (((1, 10), (2, 28)),),
    "618": (((5, 25), (6, 20)),),
    "双十一": (((10, 15), (11, 15)),),
    "国庆": (((9, 20), (10, 8)),),
    "年底": (((11, 25), (1, 15)),),
}
SEASONAL_TAGS = frozenset(_TAG_WINDOWS) | {"春节前"}
# Audience tags do not depend on the date; they let a push target a group's residents.
AUDIENCE_TAGS = frozenset({"老年人", "学生", "家长", "青少年", "上班族", "宝妈", "求职者",
                           "商户", "企业财务", "网购", "游戏玩家", "单身人士"})
KNOWN_TAGS = SEASONAL_TAGS | AUDIENCE_TAGS

# Spring Festival (正月初一) dates; astronomical, so safe to list ahead of time.
_SPRING_FESTIVAL = {
    2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3), 2031: dt.date(2031, 1, 23), 2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31), 2034: dt.date(2034, 2, 19), 2035: dt.date(2035, 2, 8),
}
_PRE_FESTIVAL_DAYS = 35

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FIELDS = {"id", "type", "title", "text", "tags", "season"}
_REQUIRED = ("id", "type", "title", "text")


def fraud_type(word: str) -> str | None:
    """A type by its name or a part of it of two characters or more ("公检法" -> 冒充公检法)."""
    return next((t for t in FRAUD_TYPES if word == t or (len(word) >= 2 and word in t)), None)


class NoticeError(ValueError):
    """A notice file is invalid; the message is one line naming file and field."""


_Fail = Callable[[str, str], NoticeError]


@dataclass(frozen=True)
class Notice:
    id: str
    type: str
    title: str
    text: str
    tags: tuple[str, ...] = ()
    months: frozenset[int] = frozenset()  # from season.months; empty = all year
    source: Path | None = field(default=None, compare=False, repr=False)

    @property
    def is_seasonal(self) -> bool:
        return bool(self.months) or any(t in SEASONAL_TAGS for t in self.tags)

    def in_season(self, day: dt.date) -> bool:
        if day.month in self.months:
            return True
        return any(_tag_active(t, day) for t in self.tags if t in SEASONAL_TAGS)

    @property
    def is_custom(self) -> bool:
        return self.id.startswith(CUSTOM_PREFIX)

    def as_message(self) -> str:
        """Plain WeChat text: no markdown, WeChat shows it verbatim."""
        body = f"{self.title}\n{self.text}" if self.title else self.text
        if "110" not in self.text:  # also true of 96110
            body += "\n" + CALL_LINE
        return f"【反诈提醒·{self.type}】{body}"


# ---------------------------------------------------------------- loading


def default_notice_dir() -> Path:
    """The library shipped with the bot.

    ``notices/`` is a data directory, not a package: an ``__init__.py`` there
    would shadow this module (``handlers.pushes.notices``).  Ship the files as
    package data of ``handlers.pushes`` with the pattern ``notices/*.yaml``.
    """
    return Path(__file__).with_name("notices")


def load_notices(dirs: Iterable[str | Path] | str | Path) -> list[Notice]:
    """Load every ``*.yaml``/``*.yml`` in ``dirs``; raise NoticeError on the first bad file.

    Ids must be unique across all directories, so a district cannot silently
    shadow a built-in notice (it would break the "recently sent" bookkeeping).
    """
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    notices: list[Notice] = []
    seen: dict[str, Path] = {}
    for directory in map(Path, dirs):
        if not directory.is_dir():
            raise NoticeError(f"{directory}: notice directory does not exist")
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        for path in files:
            notice = load_notice_file(path)
            if notice.id in seen:
                raise NoticeError(f"{path}: field 'id': '{notice.id}' is already used by {seen[notice.id]}")
            seen[notice.id] = path
            notices.append(notice)
    return notices


def load_notice_file(path: Path) -> Notice:
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NoticeError(f"{path}: cannot read YAML: {first_line}") from None
    if not isinstance(data, dict):
        raise NoticeError(f"{path}: expected a mapping with fields {', '.join(_REQUIRED)}")
    return _notice_from_mapping(path, data)


def _notice_from_mapping(path: Path, data: dict) -> Notice:
    def fail(name: str, problem: str) -> NoticeError:
        return NoticeError(f"{path}: field '{name}': {problem}")

    unknown = sorted(set(map(str, data)) - _FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(_FIELDS))})")
    for name in _REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise fail(name, "required, must be non-empty text")

    notice_id = data["id"].strip()
    if not _ID_RE.match(notice_id):
        raise fail("id", f"'{notice_id}' must be a slug: lowercase letters, digits and hyphens")
    if notice_id.startswith(CUSTOM_PREFIX):
        raise fail("id", f"'{notice_id}': ids starting with '{CUSTOM_PREFIX}' are kept for notices added in chat")
    if notice_id != path.stem:
        raise fail("id", f"'{notice_id}' must equal the file name '{path.stem}'")
    if data["type"] not in FRAUD_TYPES:
        raise fail("type", f"'{data['type']}' is not one of {', '.join(FRAUD_TYPES)}")
    text = data["text"].strip()
    if len(text) > MAX_TEXT_CHARS:
        raise fail("text", f"{len(text)} characters, at most {MAX_TEXT_CHARS}")
    if "110" not in text:  # also true of 96110
        raise fail("text", "must tell people to call 96110 or 110")

    return Notice(
        id=notice_id, type=data["type"], title=data["title"].strip(), text=text,
        tags=_parse_tags(data.get("tags"), fail), months=_parse_season(data.get("season"), fail),
        source=path,
    )


def _parse_tags(raw: object, fail: _Fail) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, (str, int)) for t in raw):
        raise fail("tags", "must be a list of words, e.g. [老年人, 春节前]")
    tags = tuple(str(t) for t in raw)  # YAML reads an unquoted 618 as a number
    unknown = [t for t in tags if t not in KNOWN_TAGS]
    if unknown:
        raise fail("tags", f"unknown tag '{unknown[0]}' (known: {', '.join(sorted(KNOWN_TAGS))})")
    return tags


def _parse_season(raw: object, fail: _Fail) -> frozenset[int]:
    if raw is None:
        return frozenset()
    months = raw.get("months") if isinstance(raw, dict) and set(raw) == {"months"} else None
    if (not isinstance(months, list) or not months
            or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months)):
        raise fail("season", "must look like {months: [1, 2]} with months 1-12")
    return frozenset(months)


# ---------------------------------------------------------------- seasons


def _tag_active(tag: str, day: dt.date) -> bool:
    if tag == "春节前":
        return _before_spring_festival(day)
    return any(_in_window(day, start, end) for start, end in _TAG_WINDOWS[tag])


def _in_window(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> bool:
    md = (day.month, day.day)
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end  # wraps over New Year


def _before_spring_festival(day: dt.date) -> bool:
    festival = _SPRING_FESTIVAL.get(day.year)
    if festival is None:
        # Outside the table: the festival always falls between Jan 21 and Feb 20.
        return _in_window(day, (1, 1), (2, 15))
    return festival - dt.timedelta(days=_PRE_FESTIVAL_DAYS) <= day < festival


# ---------------------------------------------------------------- rotation


def rotation_library(files: Iterable[Notice], stopped_ids: Set[str], added: Iterable[Notice]) -> list[Notice]:
    """The notices a bot rotates through now: the files less the stopped ones, then those added in chat."""
    return [n for n in files if n.id not in stopped_ids] + list(added)


def pick_notice(
    notices: Sequence[Notice],
    recently_sent_ids: Sequence[str] | Set[str],
    today: dt.date,
    notice_type: str | None = None,
    rng: random.Random | None = None,
) -> Notice | None:
    """Choose the next notice to push, or None if the library has none of that type.

    ``recently_sent_ids`` is the rotation window: the ids sent to this group (or
    category) lately, **most recent first** when given as a list (``ORDER BY
    sent_at DESC LIMIT n``).  The caller chooses the window size.

    Order of preference among notices not in the window:
    in season today > evergreen (no season) > seasonal but out of season.
    If every candidate is in the window, the one sent longest ago is returned
    (random among them when a set without order is given).
    """
    rng = rng or random.Random()
    candidates = [n for n in notices if notice_type is None or n.type == notice_type]
    if not candidates:
        return None
    recent = recently_sent_ids
    fresh = [n for n in candidates if n.id not in recent]
    if fresh:
        return rng.choice(_best_tier(fresh, today))
    if isinstance(recent, Set):
        return rng.choice(candidates)
    # Position of each id's most recent send; the largest is the longest ago.
    position: dict[str, int] = {}
    for i, notice_id in enumerate(recent):
        position.setdefault(notice_id, i)
    return max(candidates, key=lambda n: position[n.id])


def _best_tier(notices: list[Notice], today: dt.date) -> list[Notice]:
    in_season = [n for n in notices if n.is_seasonal and n.in_season(today)]
    evergreen = [n for n in notices if not n.is_seasonal]
    return in_season or evergreen or notices
