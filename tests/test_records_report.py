"""The weekly report and /统计 from real producers (issue 16): each line comes from what people did
in the conversations, not from counters a test wrote."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI
from bot.harness import Harness
from tests.conftest import make_config
from tests.test_appointments import book, say
from tests.test_records_pushes import MovingClock  # as a real clock: later at every read

WORK = "幸福里警务工作群"
RESIDENTS = "幸福里居民群"
OFFICER = "张警官"
MONDAY_0900 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
async def bot(db_url):
    harness = Harness(make_config(db_url, pushes={"schedules": []}), clock=MovingClock(at(2026, 12, 8, 8, 0)))
    await harness.start()
    yield harness
    await harness.stop()


async def weekly(bot) -> str:
    await bot.run_until(MONDAY_0900 + timedelta(minutes=5))
    [report] = [t for t in bot.texts_to(WORK) if "周报】" in t]
    return report


async def stats_now(bot) -> str:
    await say(bot, OFFICER, "/统计")
    return bot.texts_to(OFFICER)[-1]


async def tip(bot, who: str, body: str) -> None:
    for said in ("举报", "1", body, "跳过", "保密", "确认"):
        await say(bot, who, said)


async def test_group_messages_are_what_residents_said_in_groups_and_private_service_apart(bot):
    for text in ("大家早上好", "今天停水吗", "谢谢物业"):
        await say(bot, "王阿姨", text, room=RESIDENTS)
    await say(bot, "小周", "电梯修好了吗", room="幸福里3号楼群")
    await say(bot, OFFICER, "/统计 本周", room=WORK)  # an instruction to the bot, not 交流
    await book(bot, "陈大爷")  # seven private steps
    text = await stats_now(bot)
    assert "群内交流信息4条" in text and "参与交流2人次" in text
    assert "私聊办理服务（预约、举报、咨询等）收到消息7条。" in text
    report = await weekly(bot)
    assert "群内交流信息4条" in report and "收到消息7条" in report


async def test_new_members_and_new_friends_are_counted_as_they_come(bot):
    await bot.join(RESIDENTS, ["小赵", "小钱"])
    await bot.join("幸福里3号楼群", ["小孙"])
    await bot.friend("小李", "我是5号楼的")
    await bot.advance(timedelta(minutes=2))
    assert "新入群3人，新加好友1人" in await stats_now(bot)
    assert "新入群3人，新加好友1人" in await weekly(bot)


async def test_open_and_overdue_tips(bot):
    await tip(bot, "小周", "有人冒充公检法打电话")
    await bot.advance(timedelta(hours=50))
    await tip(bot, "王阿姨", "菜市场有人卖过期奶粉")
    assert "待处理线索2条，其中超期1条" in await stats_now(bot)
    await say(bot, OFFICER, "/线索 回复 1 已核实")
    await say(bot, OFFICER, "/线索 结案 2 已处理")
    assert "待处理线索1条，其中超期0条" in await stats_now(bot)


async def test_upcoming_bookings(bot):
    await book(bot, "王阿姨", day="明天")
    code = await book(bot, "陈大爷", day="明天", slot="2", name="陈建国", phone="13912345678")
    assert "接下来7天待办理的预约2件" in await stats_now(bot)
    await say(bot, "陈大爷", f"取消预约 {code}")
    assert "接下来7天待办理的预约1件" in await stats_now(bot)


async def test_unresolved_disputes(bot):
    await say(bot, "小周", "楼上天天半夜跺脚，说了也不听，太吵了", room="幸福里3号楼群")
    await say(bot, "陈大爷", "隔壁邻居家的狗天天半夜叫，跟他说了还跟我吵架")
    assert "未化解的矛盾纠纷2条" in await stats_now(bot)
    await say(bot, OFFICER, "/纠纷 化解 1 已上门调解")
    assert "未化解的矛盾纠纷1条" in await stats_now(bot)
    assert "未化解的矛盾纠纷1条" in await weekly(bot)
