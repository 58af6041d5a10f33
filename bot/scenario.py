"""`jingmin sim --script FILE.yaml [--database URL]`: play a scenario (../shared/SCENARIOS.md)
against a fresh bot, or (`bots:` and `district:`) a district's bots on one database
(bot/scenario_district.py).

Simulated clock (bot.harness.Harness on a FakeClock: `advance`
fires every job and paced send due on the way at its own time). The bot runs on the in-memory
transport here: the same App, router, handlers and outbox as on WeChat, without the gRPC round
trips (the SDK path is covered by tests/test_wechaty_transport.py and gives no more confidence
for content rehearsal, only slower and clock-dependent runs).

Fresh temporary SQLite database, or with `--database URL` a new database on that PostgreSQL
server (dropped afterwards). An extension of the contract: an expect's `to:` may be a list, each
target checked alike on the same messages (the window still closes at every expect).

stdout: one JSON line per message the bot sent; exit 0, 1 (an expect failed; stderr says which),
2 (invalid scenario: one line naming the step and the problem).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot import yamlfile

ROOT = Path(__file__).resolve().parent.parent
STEP_KINDS = ("say", "join", "friend", "invite", "advance", "expect")
TOP_KEYS = {"start", "config", "community", "bots", "district", "steps"}
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScenarioError(Exception):
    pass


def parse_duration(value: Any) -> timedelta:
    text = str(value).strip().replace(" ", "")
    if not text or _DURATION.sub("", text):
        raise ScenarioError(f"'{value}' is not a duration like 1h30m (units s, m, h, d)")
    delta = timedelta()
    for number, unit in _DURATION.findall(text):
        delta += timedelta(**{_UNITS[unit]: int(number)})
    return delta


@dataclass
class Step:
    index: int
    kind: str
    args: Any

    @property
    def label(self) -> str:
        return f"steps[{self.index}] ({self.kind})"


def _require(step: Step, args: Any, keys: set[str], required: set[str]) -> dict:
    if not isinstance(args, dict):
        raise ScenarioError(f"{step.label}: expected a mapping with {sorted(required)}")
    unknown = set(args) - keys
    if unknown:
        raise ScenarioError(f"{step.label}: unknown key(s) {sorted(unknown)} (allowed: {sorted(keys)})")
    missing = required - set(args)
    if missing:
        raise ScenarioError(f"{step.label}: missing {sorted(missing)}")
    return args


def parse_steps(raw: Any, district: bool = False) -> list[Step]:
    """`district`: a scenario of several bots, whose steps may name one (`bot: NAME`)."""
    bot = {"bot"} if district else set()
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("steps: a non-empty list is required")
    steps = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or len(item) != 1:
            raise ScenarioError(f"steps[{i}]: each step is one of {', '.join(STEP_KINDS)}")
        kind, args = next(iter(item.items()))
        step = Step(i, kind, args)
        if kind not in STEP_KINDS:
            raise ScenarioError(f"steps[{i}]: unknown step '{kind}' (one of {', '.join(STEP_KINDS)})")
        if kind == "say":
            _require(step, args, {"from", "room", "text", "mention"} | bot, {"from", "text"})
        elif kind == "join":
            a = _require(step, args, {"room", "contacts", "inviter"}, {"room", "contacts"})
            if not isinstance(a["contacts"], list) or not a["contacts"]:
                raise ScenarioError(f"{step.label}: contacts must be a non-empty list of names")
        elif kind == "friend":
            _require(step, args, {"from", "hello"} | bot, {"from"})
        elif kind == "invite":
            _require(step, args, {"room", "inviter"} | bot, {"room", "inviter"})
        elif kind == "advance":
            try:
                step.args = parse_duration(args)
            except ScenarioError as error:
                raise ScenarioError(f"{step.label}: {error}") from None
        elif kind == "expect":
            a = _require(step, args, {"to", "contains", "not_contains", "count"} | bot, {"to"})
            if not {"contains", "not_contains", "count"} & set(a):
                raise ScenarioError(f"{step.label}: give contains, not_contains or count")
            if isinstance(a["to"], list) and not a["to"]:
                raise ScenarioError(f"{step.label}: to: a room or contact, or a list of them")
        steps.append(step)
    return steps


def load_scenario(path: Path, db_url: str, data_dir: Path | None = None):
    """(config, start, steps); for a district scenario (`bots:`), ((configs, district), start, steps)."""
    from bot.config import ConfigError, parse_config

    try:
        raw = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with steps")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ScenarioError(f"unknown key(s) {sorted(unknown)} (allowed: {sorted(TOP_KEYS)})")
    start = raw.get("start")
    if start is not None and not isinstance(start, datetime):
        try:
            start = datetime.fromisoformat(str(start))
        except ValueError:
            raise ScenarioError(f"start: '{start}' is not a date-time like 2026-12-07T08:00:00+08:00") from None
    config_path = raw.get("config")
    if config_path:
        candidates = [path.parent / config_path, Path(config_path)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ScenarioError(f"config: '{config_path}' not found next to the scenario or here")
    else:
        found = ROOT / "config.yaml"
    config_raw = yamlfile.safe_load(found.read_text(encoding="utf-8"))
    if "bots" in raw or "district" in raw:
        return _load_district(raw, config_raw, start, db_url, data_dir)
    community = raw.get("community")
    if community is not None:
        if not isinstance(community, dict) or set(community) - {"rooms", "contacts"}:
            raise ScenarioError("community: a mapping with rooms and contacts")
        config_raw["groups"] = community.get("rooms") or []
        config_raw["contacts"] = community.get("contacts") or []
    config_raw["database"] = {"url": db_url}
    # Charts and exports go beside the throw-away database, never into a live bot's data_dir.
    config_raw["data_dir"] = str(data_dir) if data_dir is not None else tempfile.mkdtemp(prefix="jingmin-sim-")
    config_raw.setdefault("bot", {})["transport"] = "memory"
    try:
        config = parse_config(config_raw, env={})
    except ConfigError as error:
        where = "community" if community is not None else "config"
        raise ScenarioError(f"{where}: {error.problems[0]}") from None
    steps = parse_steps(raw.get("steps"))
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=config.bot.tz)
    return config, start, steps


def _load_district(raw: dict, config_raw: dict, start, db_url: str, data_dir: Path | None):
    from bot.scenario_district import district_configs

    if "community" in raw:
        raise ScenarioError("community: a district scenario lists each bot's rooms and contacts under bots:")
    if "bots" not in raw:
        raise ScenarioError("bots: a district scenario needs its bots (name, community, rooms, contacts)")
    folder = data_dir if data_dir is not None else Path(tempfile.mkdtemp(prefix="jingmin-sim-"))
    configs, district = district_configs(raw, config_raw, db_url, folder)
    steps = parse_steps(raw.get("steps"), district=True)
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=configs[0].bot.tz)
    return (configs, district), start, steps


def targets(expect: dict) -> list[str]:
    """An expect's `to`: one room or contact, or a list of them checked alike."""
    to = expect["to"]
    return [str(t) for t in to] if isinstance(to, list) else [str(to)]


class Runner:
    def __init__(self, harness, out=sys.stdout, err=sys.stderr) -> None:
        self.h = harness
        self.out, self.err = out, err
        self.since_expect = 0
        self.printed = 0
        self.failed = False
        self.room_names = {v: k for k, v in harness.rooms.items()}

    def _contact_name(self, contact_id: str) -> str | None:
        return next((n for n, cid in self.h.names.items() if cid == contact_id), contact_id)

    def flush(self) -> None:
        for record in self.h.sent[self.printed:]:
            out = record.out
            text = Path(out.text).name if out.kind in ("image", "file") else out.text
            line = {"at": record.at.isoformat(), "room": self.room_names.get(out.room_id, out.room_id)
                    if out.room_id else None,
                    "to": None if out.room_id else self._contact_name(out.contact_id or ""),
                    "kind": out.kind, "text": text}
            print(json.dumps(line, ensure_ascii=False), file=self.out, flush=True)
        self.printed = len(self.h.sent)

    async def run(self, steps: list[Step]) -> int:
        for step in steps:
            try:
                await self.play(step)
            except Exception as error:  # a name the harness does not know, ...
                self.flush()
                print(f"{step.label}: {error}", file=self.err)
                return 2
            self.flush()
        return 1 if self.failed else 0

    async def play(self, step: Step) -> None:
        h, a = self.h, step.args
        if step.kind == "say":
            if a.get("room") and a["room"] not in h.rooms:
                raise ScenarioError(f"unknown room '{a['room']}'")
            await h.say(str(a["from"]), str(a["text"]), room=a.get("room"), mention=bool(a.get("mention")))
        elif step.kind == "join":
            if a["room"] not in h.rooms:
                raise ScenarioError(f"unknown room '{a['room']}'")
            await h.join(a["room"], [str(n) for n in a["contacts"]], a.get("inviter"))
        elif step.kind == "friend":
            await h.friend(str(a["from"]), str(a.get("hello", "")))
        elif step.kind == "invite":
            await h.invite(str(a["room"]), str(a["inviter"]))
        elif step.kind == "advance":
            await h.advance(a)
        elif step.kind == "expect":
            self.expect(step, a)

    def expect(self, step: Step, a: dict) -> None:
        records = self.h.sent[self.since_expect:]
        self.since_expect = len(self.h.sent)
        for target in targets(a):  # a list: each of them, on the same messages
            if target not in self.h.rooms and target not in self.h.names:
                raise ScenarioError(f"unknown room or contact '{target}'")
            self.check(step, a, target, self.h.texts_to(target, records))

    def check(self, step: Step, a: dict, target: str, texts: list[str]) -> None:
        problems = []
        if "contains" in a and not any(str(a["contains"]) in t for t in texts):
            problems.append(f"no message to {target} contains '{a['contains']}'")
        if "not_contains" in a and any(str(a["not_contains"]) in t for t in texts):
            problems.append(f"a message to {target} contains '{a['not_contains']}'")
        if "count" in a and len(texts) != int(a["count"]):
            problems.append(f"{len(texts)} messages to {target}, expected {a['count']}")
        for problem in problems:
            self.failed = True
            shown = " | ".join(t.replace("\n", " ")[:80] for t in texts) or "nothing"
            print(f"{step.label}: expect failed: {problem} (sent to {target}: {shown})", file=self.err)


async def play(path: Path, out=sys.stdout, err=sys.stderr, database: str | None = None) -> int:
    """`database`: a PostgreSQL server's URL; the scenario runs on a new database there."""
    from bot.scenario_district import fresh_database

    with tempfile.TemporaryDirectory(prefix="jingmin-sim-") as tmp:
        try:
            if database is None:
                return await _play(path, f"sqlite+aiosqlite:///{Path(tmp) / 'sim.db'}", Path(tmp), out, err)
            async with fresh_database(database) as url:
                return await _play(path, url, Path(tmp), out, err)
        except ScenarioError as error:
            print(str(error), file=err)
            return 2


async def _play(path: Path, db_url: str, data_dir: Path, out, err) -> int:
    from bot.clock import FakeClock
    from bot.harness import DistrictHarness, Harness
    from bot.scenario_district import DistrictRunner

    loaded, start, steps = load_scenario(path, db_url, data_dir)
    district = isinstance(loaded, tuple)
    tz = (loaded[0][0] if district else loaded).bot.tz
    clock = FakeClock(start, tz) if start else FakeClock(datetime.now(tz), tz)
    if district:
        harness = DistrictHarness(loaded[0], clock=clock, district=loaded[1])
        runner = DistrictRunner(harness, out, err)
    else:
        harness = Harness(loaded, clock=clock)
        runner = Runner(harness, out, err)
    await harness.start()
    try:
        return await runner.run(steps)
    finally:
        await harness.stop()


def run_script(script: str, database: str | None = None) -> int:
    import logging

    from bot.logs import setup_logging

    setup_logging("WARNING", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return asyncio.run(play(Path(script), database=database))
