"""Schedules and pushes say what they do (issue 16): on a clock that moves as a real one does,
a push now in daytime goes now, one at night says when; an unknown target sends nothing and
lists the valid ones; a duplicate or a night-time schedule is refused; /统计 reads 昨天 as a day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from tests.conftest import make_config

OFFICER = "张警官"
GROUPS = ("居民1群", "居民2群", "警务工作群", "3号楼群")


class MovingClock(FakeClock):
    """A clock that, like a real one, is a little later at every read."""

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=3)
        return self._now


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def community(db_url, **extra):
    groups = [{"name": "居民1群", "category": "resident"}, {"name": "居民2群", "category": "resident"},
              {"name": "警务工作群", "category": "work"}, {"name": "3号楼群", "category": "building"}]
    contacts = [{"name": OFFICER, "id": "wx_zhang", "role": "officer", "rooms": list(GROUPS)},
                {"name": "王阿姨", "id": "wx_wang", "rooms": ["居民1群"]}]
    pushes = {"schedules": [{"id": "weekly-antifraud", "when": "每周一 09:00", "kind": "antifraud",
                             "target": "resident"}]}
    return make_config(db_url, groups=groups, contacts=contacts, pushes=pushes, **extra)


@pytest.fixture
async def run(db_url):
    bots: list[Harness] = []

    async def make(start: datetime) -> Harness:
        bots.append(Harness(community(db_url), clock=MovingClock(start)))
        await bots[-1].start()
        return bots[-1]

    yield make
    for b in bots:
        await b.stop()


def last_to(bot: Harness, name: str) -> str:
    return bot.texts_to(name)[-1]


def group_posts(bot: Harness) -> list[str]:
    return [t for g in GROUPS for t in bot.texts_to(g) if "周报】" not in t and not t.endswith(".png")]


async def test_a_push_now_in_daytime_goes_now_on_a_moving_clock(run):
    bot = await run(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/公告 今天下午停水，请提前储水。 居民群")
    assert last_to(bot, OFFICER) == "好的，正在向 2 个群推送公告，发完后告诉您结果。"
    await bot.say(OFFICER, "/反诈 冒充公检法 3号楼群")
    assert last_to(bot, OFFICER) == "好的，正在向 1 个群推送反诈，发完后告诉您结果。"
    await bot.advance(timedelta(minutes=3))
    assert bot.texts_to("居民1群") == ["【社区公告】今天下午停水，请提前储水。"]


async def test_a_push_now_at_night_says_when_it_goes(run):
    bot = await run(at(2026, 12, 8, 23, 0))
    await bot.say(OFFICER, "/公告 明早停水 居民1群")
    assert last_to(bot, OFFICER) == "好的，现在是休息时间，公告会在 2026-12-09 07:30 开始向 1 个群推送，发完后告诉您结果。"
    await bot.run_until(at(2026, 12, 9, 7, 0))
    assert group_posts(bot) == []
    await bot.run_until(at(2026, 12, 9, 7, 40))
    assert bot.texts_to("居民1群") == ["【社区公告】明早停水"]


async def test_an_unknown_group_is_an_error_and_nothing_is_sent(run):
    bot = await run(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/公告 今晚停水 5号楼群")
    reply = last_to(bot, OFFICER)
    assert reply.startswith("抱歉，没有找到“5号楼群”，这次什么也没有发。")
    for valid in ("居民群", "楼栋群", "全部", "居民1群", "3号楼群", "警务工作群"):
        assert valid in reply
    await bot.say(OFFICER, "/反诈 5号楼群")
    assert last_to(bot, OFFICER).startswith("抱歉，“5号楼群”既不是反诈类型，也不是可以推送的目标")
    await bot.advance(timedelta(minutes=10))
    assert group_posts(bot) == []
    # Words that do not read as a group stay part of the announcement.
    await bot.say(OFFICER, "/公告 今晚停水 请大家储水")
    await bot.advance(timedelta(minutes=3))
    assert bot.texts_to("居民1群") == ["【社区公告】今晚停水 请大家储水"]


async def test_a_duplicate_of_a_config_schedule_is_refused_by_name(run):
    bot = await run(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/定时 每周一 09:00 反诈 居民群")
    assert last_to(bot, OFFICER) == ("已经有一样的计划了：计划 weekly-antifraud（配置文件）（每周一 09:00 向居民群推送反诈），"
                                     "没有重复建立。发送 /计划 可以查看。")
    # Both resident groups by name are the same targets as 居民群.
    await bot.say(OFFICER, "/定时 每天 08:30 公告 全部 早安")
    assert "已建立计划 1" in last_to(bot, OFFICER)
    await bot.say(OFFICER, "/定时 每天 8点半 公告 全部 早安")
    assert last_to(bot, OFFICER).startswith("已经有一样的计划了：计划 1（每天 08:30 向全部推送公告）")
    await bot.say(OFFICER, "/定时 每天 08:30 公告 全部 晚安")  # other words: another announcement
    assert "已建立计划 2" in last_to(bot, OFFICER)
    await bot.say(OFFICER, "/计划")
    listing = last_to(bot, OFFICER)
    assert "共3个" in listing


async def test_a_schedule_in_quiet_hours_is_refused(run):
    bot = await run(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/定时 每天 23:00 反诈 居民群")
    assert last_to(bot, OFFICER).startswith("每天 23:00 在休息时间（22:00 到 07:30）里，群里的推送要等到早上 07:30 才会发出。")
    await bot.say(OFFICER, "/计划")
    assert "共1个" in last_to(bot, OFFICER)  # only the config's


async def test_publishing_the_report_at_night_says_it_waits(run):
    bot = await run(at(2026, 12, 8, 23, 30))
    await bot.say(OFFICER, "/统计 上周 发布")
    assert last_to(bot, OFFICER) == "现在是休息时间，11月30日至12月6日的周报会在 12-09 07:30 发到1个工作群。"
    await bot.run_until(at(2026, 12, 9, 7, 0))
    assert [t for t in bot.texts_to("警务工作群") if "周报】" in t] == []
    await bot.run_until(at(2026, 12, 9, 7, 40))
    assert [t for t in bot.texts_to("警务工作群") if "周报】" in t][0].startswith("【幸福里社区警民群周报】11月30日至12月6日")
    bot.clock.set(at(2026, 12, 9, 10, 0))
    await bot.say(OFFICER, "/统计 上周 发布")
    assert last_to(bot, OFFICER) == "11月30日至12月6日的周报已重新发到1个工作群。"


async def test_stats_of_yesterday_is_a_day_not_a_group(run):
    bot = await run(at(2026, 12, 8, 10, 0))
    await bot.say(OFFICER, "/统计 昨天")
    assert last_to(bot, OFFICER).startswith("【幸福里社区统计】昨天12月7日至12月7日")
    await bot.say(OFFICER, "/统计 2026-12-01 居民1群")
    assert last_to(bot, OFFICER).startswith("【幸福里社区统计】（居民1群）12月1日至12月1日")
