"""District scenarios for `jingmin sim` (../shared/SCENARIOS.md, "A district"): `bots:` and
`district:` instead of `community:`. Every bot starts fresh on one shared temporary database (a
SQLite file, or a new database on the PostgreSQL server `--database URL` names) and one simulated
clock; every output line says which bot sent it.

    district: {name: 甘井子分局, report_room: 分局社区警务工作群,
               units: [{name: 禁毒, handles: [毒品], officers: [禁毒王警官]}],
               schedules: [{at: 每周二 10:00, kind: 反诈, target: 全区居民群}]}
    bots:
      - {name: chunhui, community: 春晖里社区, rooms: [...], contacts: [...]}
      - {name: bureau, community: 甘井子分局, rooms: [...], contacts: [...]}

A unit without `bot:` is reached through the bot whose contacts include its officers; the bot
with `report_room` among its rooms posts the district report.
"""

from __future__ import annotations

import copy
import json
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from bot.scenario import Runner, ScenarioError, Step, targets

BOT_KEYS = {"name", "community", "rooms", "contacts"}
STEP_BOT = {"say", "friend", "invite", "expect"}  # steps that may name the bot (`bot: NAME`)


def district_configs(raw: dict, config_raw: dict, db_url: str, data_dir: Path):
    """The bots' configs and the district, from a scenario's `bots:` and `district:`."""
    from bot.config import ConfigError, parse_config

    bots = raw.get("bots")
    if not isinstance(bots, list) or not bots:
        raise ScenarioError("bots: a non-empty list of bots (name, community, rooms, contacts)")
    configs, seen_rooms = [], {}
    for i, entry in enumerate(bots):
        if not isinstance(entry, dict) or "name" not in entry or set(entry) - BOT_KEYS:
            raise ScenarioError(f"bots[{i}]: a mapping with name, community, rooms and contacts")
        one = copy.deepcopy(config_raw)
        one["bot"] = {**one.get("bot", {}), "name": entry["name"], "transport": "memory"}
        if entry.get("community"):
            one["bot"]["community"] = entry["community"]
        one["groups"] = entry.get("rooms") or []
        one["contacts"] = entry.get("contacts") or []
        one["database"] = {"url": db_url}
        one["data_dir"] = str(data_dir / str(entry["name"]))
        try:
            config = parse_config(one, env={})
        except ConfigError as error:
            raise ScenarioError(f"bots[{i}]: {error.problems[0]}") from None
        for g in config.groups:
            if g.name in seen_rooms:
                raise ScenarioError(f"bots[{i}].rooms: '{g.name}' is also a room of {seen_rooms[g.name]} "
                                    "(room names are unique across bots)")
            seen_rooms[g.name] = config.bot.name
        configs.append(config)
    return configs, _district(raw.get("district"), configs)


def _district(raw: Any, configs):
    from bot.config import ConfigError
    from bot.district import parse_district

    if raw is None:
        raw = {"name": "分局"}
    if not isinstance(raw, dict):
        raise ScenarioError("district: a mapping with name, units, schedules and report_room")
    raw = copy.deepcopy(raw)
    raw["communities"] = [{"bot": c.bot.name} for c in configs]
    for i, unit in enumerate(raw.get("units") or []):
        if isinstance(unit, dict) and "bot" not in unit:
            officers = set(unit.get("officers") or [])
            having = [c.bot.name for c in configs if officers & {p.name for p in c.contacts}]
            if len(having) != 1:
                raise ScenarioError(f"district.units[{i}].bot: {'several' if having else 'no'} bots have "
                                    f"its officers as contacts: name the bot")
            unit["bot"] = having[0]
    if raw.get("report_room") and "report_bot" not in raw:
        having = [c.bot.name for c in configs if c.group_by_name(raw["report_room"]) is not None]
        if len(having) != 1:
            raise ScenarioError(f"district.report_room: no bot has the room '{raw['report_room']}'")
        raw["report_bot"] = having[0]
    try:
        return parse_district(raw)
    except ConfigError as error:
        raise ScenarioError(f"district.{error.problems[0]}") from None


class DistrictRunner(Runner):
    """The scenario runner over a DistrictHarness: steps go to the bot that has the room or the
    contact (or the step's `bot:`), each output line names the bot that sent it."""

    def __init__(self, district, out, err) -> None:
        self.h = district
        self.out, self.err = out, err
        self.since_expect: dict[str, int] = {}  # per bot: how many of its records are behind us
        self.printed: dict[str, int] = {}
        self.failed = False
        self.rooms = {name: (bot, rid) for bot, h in district.bots.items() for name, rid in h.rooms.items()}

    def flush(self) -> None:
        sent, self.printed = self.h.since(self.printed)
        for bot, record in sent:
            out, h = record.out, self.h[bot]
            room = next((n for n, rid in h.rooms.items() if rid == out.room_id), out.room_id) if out.room_id else None
            to = None if out.room_id else next((n for n, cid in h.names.items() if cid == out.contact_id),
                                               out.contact_id)
            text = Path(out.text).name if out.kind in ("image", "file") else out.text
            line = {"at": record.at.isoformat(), "bot": bot, "room": room, "to": to, "kind": out.kind, "text": text}
            print(json.dumps(line, ensure_ascii=False), file=self.out, flush=True)

    async def play(self, step: Step) -> None:
        h, a = self.h, step.args
        if isinstance(a, dict) and a.get("room") and step.kind != "expect" and a["room"] not in self.rooms:
            raise ScenarioError(f"unknown room '{a['room']}'")
        bot = a.get("bot") if isinstance(a, dict) else None
        if step.kind == "say":
            await h.say(str(a["from"]), str(a["text"]), room=a.get("room"), bot=bot, mention=bool(a.get("mention")))
        elif step.kind == "join":
            await h.join(a["room"], [str(n) for n in a["contacts"]], a.get("inviter"))
        elif step.kind == "friend":
            await h.friend(str(a["from"]), str(a.get("hello", "")), bot=bot)
        elif step.kind == "invite":
            await h.invite(str(a["room"]), str(a["inviter"]), bot=bot)
        elif step.kind == "advance":
            await h.advance(a)
        elif step.kind == "expect":
            self.expect(step, a)

    def expect(self, step: Step, a: dict) -> None:
        records, self.since_expect = self.h.since(self.since_expect)
        only = a.get("bot")
        for target in targets(a):
            if target not in self.rooms and not any(target in h.names for h in self.h.bots.values()):
                raise ScenarioError(f"unknown room or contact '{target}'")
            texts = [r.out.text for bot, r in records if only in (None, bot) and self._is_to(bot, r, target)]
            self.check(step, a, target, texts)

    def _is_to(self, bot: str, record, target: str) -> bool:
        h, out = self.h[bot], record.out
        if target in h.rooms:
            return out.room_id == h.rooms[target]
        return out.room_id is None and target in h.names and out.contact_id == h.names[target]


@asynccontextmanager
async def fresh_database(url: str) -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL server `url` names, dropped afterwards."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ScenarioError("--database: a postgresql+asyncpg:// URL (without it the scenario runs on a "
                            "temporary SQLite file)")
    name = f"jingmin_sim_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                     password=parsed.password, database=parsed.database, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        await admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        raise ScenarioError(f"--database: cannot create a database there ({str(error).splitlines()[0]})") from None
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
