"""A small district for tests: 春晖里 (bot chunhui) and 和平里 (bot heping) communities, and the
bureau's bot (bureau) whose friends are the 禁毒 unit's officers; all on one database."""

from __future__ import annotations

from bot.district import parse_district
from bot.harness import DistrictHarness
from tests.conftest import make_config, sample_raw

CHUNHUI = {
    "bot": {**sample_raw()["bot"], "name": "chunhui", "community": "春晖里社区"},
    "groups": [{"name": "春晖里居民群", "category": "resident"}, {"name": "春晖里3号楼群", "category": "building"},
               {"name": "春晖里工作群", "category": "work"}],
    "contacts": [{"name": "刘警官", "id": "wx_liu", "role": "officer", "rooms": ["春晖里居民群", "春晖里工作群"]},
                 {"name": "王阿姨", "id": "wxid_wang7q", "rooms": ["春晖里居民群"]},
                 {"name": "陈大爷", "id": "wxid_chen7q", "rooms": ["春晖里居民群"]}],
}
HEPING = {
    "bot": {**sample_raw()["bot"], "name": "heping", "community": "和平里社区"},
    "groups": [{"name": "和平里居民群", "category": "resident"}, {"name": "和平里二期居民群", "category": "resident"},
               {"name": "和平里工作群", "category": "work"}],
    "contacts": [{"name": "周警官", "id": "wx_zhou_hp", "role": "officer", "rooms": ["和平里工作群"]},
                 {"name": "孙大姐", "id": "wxid_sun7q", "rooms": ["和平里居民群"]}],
}
BUREAU = {
    "bot": {**sample_raw()["bot"], "name": "bureau", "community": "甘井子分局"},
    "groups": [{"name": "分局社区警务工作群", "category": "work"}],
    "contacts": [{"name": "禁毒王警官", "id": "wx_wang_jd", "role": "officer", "rooms": ["分局社区警务工作群"]},
                 {"name": "赵警官", "id": "wx_zhao_fj", "role": "officer", "rooms": ["分局社区警务工作群"]}],
}
DISTRICT = {
    "name": "甘井子分局", "report_bot": "bureau", "report_room": "分局社区警务工作群",
    "communities": [{"bot": "chunhui"}, {"bot": "heping"}, {"bot": "bureau"}],
    "units": [{"name": "禁毒", "handles": ["毒品"], "bot": "bureau", "officers": ["禁毒王警官"]}],
}


def district_harness(db_url: str, *, schedules: list | None = None, community_schedules: dict | None = None,
                     outbox: dict | None = None, clock=None) -> DistrictHarness:
    district = parse_district({**DISTRICT, "schedules": schedules or []})
    configs = []
    for raw in (CHUNHUI, HEPING, BUREAU):
        name = raw["bot"]["name"]
        pushes = {**sample_raw()["pushes"], "schedules": (community_schedules or {}).get(name, [])}
        sections = {**raw, "pushes": pushes}
        sections.setdefault("appointments", {"reminder_before_minutes": 0})  # nobody books in these tests
        if outbox:
            sections["outbox"] = {**sample_raw()["outbox"], **outbox}
        configs.append(make_config(db_url, **sections))
    return DistrictHarness(configs, district=district, clock=clock)
