"""A district schedule: every bot sends its own groups of the category, paced, once per group,
however the bots restart; a community's own schedules and notices add to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.clock import SHANGHAI, FakeClock
from storage.pushes import PushScheduleRow
from tests.district_fixtures import district_harness

MONDAY_0800 = datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)
WEEKLY = {"at": "每周一 09:00", "kind": "反诈", "target": "全区居民群"}
RESIDENT_GROUPS = {"春晖里居民群": "chunhui", "和平里居民群": "heping", "和平里二期居民群": "heping"}


def _pushes(d, since=0) -> list[tuple[str, str, datetime]]:
    rooms = {rid: name for h in d.bots.values() for name, rid in h.rooms.items()}
    return [(bot, rooms[r.out.room_id], r.at) for bot, r in d.sent()[since:]
            if r.out.room_id and "工作群" not in rooms[r.out.room_id] and r.at.hour == 9]  # (work groups: the weekly report)


async def test_a_district_antifraud_push_reaches_every_resident_group_once_through_its_own_bot(db_url):
    d = district_harness(db_url, schedules=[WEEKLY], clock=FakeClock(MONDAY_0800))
    await d.start()
    try:
        await d.advance(timedelta(hours=1, minutes=30))
        pushes = _pushes(d)
        assert sorted((room, bot) for bot, room, _ in pushes) == sorted((r, b) for r, b in RESIDENT_GROUPS.items())
        heping = sorted(at for bot, _, at in pushes if bot == "heping")
        assert heping[1] - heping[0] >= timedelta(seconds=2)  # paced like any push of that bot
        await d.stop()  # every bot restarts within the grace: nothing is sent again
        await d.start()
        await d.advance(timedelta(hours=1))
        assert len(_pushes(d)) == 3
        async with d["bureau"].app.sessions() as s:
            [row] = (await s.execute(select(PushScheduleRow).where(PushScheduleRow.source == "district", PushScheduleRow.bot == "bureau"))).scalars()
        assert row.bot == "bureau" and row.target == "居民群"  # the bureau's bot has none: it sends nothing
        assert not [b for b, *_ in _pushes(d) if b == "bureau"]
        await d.advance(timedelta(days=7))
        assert len(_pushes(d)) == 6  # the next Monday, once more each
    finally:
        await d.stop()


async def test_community_schedules_add_to_the_districts_and_an_officer_cannot_cancel_the_districts(db_url):
    own = {"chunhui": [{"id": "building", "when": "每周一 09:00", "kind": "antifraud", "target": "building"}]}
    d = district_harness(db_url, schedules=[WEEKLY], community_schedules=own, clock=FakeClock(MONDAY_0800))
    await d.start()
    try:
        await d.say("刘警官", "/计划")
        listing = d.texts_to("刘警官", bot="chunhui")[-1]
        assert "（分局统一）" in listing and "（配置文件）" in listing
        district_id = next(w for w in listing.split() if w.startswith("district-")).rstrip(".")
        await d.say("刘警官", f"/取消计划 {district_id}")
        assert "分局统一安排" in d.texts_to("刘警官", bot="chunhui")[-1]
        await d.advance(timedelta(hours=1, minutes=30))
        rooms = sorted(room for bot, room, _ in _pushes(d) if bot == "chunhui")
        assert rooms == ["春晖里3号楼群", "春晖里居民群"]
    finally:
        await d.stop()


async def test_a_district_schedule_the_bot_cannot_read_is_skipped_and_told(db_url):
    bad = {"at": "每周一 09:00", "kind": "宣传", "target": "全区居民群"}
    d = district_harness(db_url, schedules=[bad, WEEKLY], clock=FakeClock(MONDAY_0800))
    await d.start()
    try:
        note = [t for t in d.texts_to("刘警官", bot="chunhui") if "读不出来" in t]
        assert note and "分局推送计划 每周一 09:00 宣传 全区居民群" in note[0]
        await d.advance(timedelta(hours=1, minutes=30))
        assert len(_pushes(d)) == 3  # the others run as ever
    finally:
        await d.stop()


def test_check_config_names_a_district_schedule_the_bots_cannot_read(tmp_path):
    import yaml

    from bot.config import ConfigError, load_config
    from tests.conftest import sample_raw

    (tmp_path / "district.yaml").write_text(yaml.safe_dump({
        "name": "甘井子分局", "communities": [{"bot": "xingfuli", "config": "community.yaml"}],
        "schedules": [WEEKLY, {"at": "每周八 09:00", "kind": "反诈", "target": "全区居民群"},
                      {"at": "每周一 09:00", "kind": "反诈", "target": "全区菜市场群"}]}, allow_unicode=True),
        encoding="utf-8")
    raw = {**sample_raw(), "district": "district.yaml"}
    (tmp_path / "community.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    try:
        load_config(tmp_path / "community.yaml", env={})
        raise AssertionError("the config was accepted")
    except ConfigError as error:
        problems = [p for p in error.problems if "district" in p]
    assert len(problems) == 2, problems
    assert "schedules[1].at: '每周八 09:00'" in problems[0] and "schedules[2].target: '全区菜市场群'" in problems[1]
