"""Officers keep the anti-fraud notice library in chat: /反诈 新增, 列表, 删除, 停用, 启用."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import CATEGORIES
from handlers.pushes.notices import CALL_LINE, fraud_type
from handlers.pushes.plugin import plugin
from handlers.pushes.targets import ALL
from storage.pushes import CustomNotice, DisabledNotice
from tests.test_pushes import OFFICER, at, notices, run, texts  # noqa: F401  (run is a fixture)

SAFE_ACCOUNT = "公检法机关不会通过电话、微信办案，更没有所谓的“安全账户”，让您转账的都是骗子。"
GONGJIANFA = ("gongjianfa-kuaidi-weijinpin", "gongjianfa-xiqian", "gongjianfa-yibaoka")


async def push_now(bot, command: str, times: int = 1) -> None:
    """The officer pushes `times` times, a few minutes apart (the same text within 10 s is a redelivery)."""
    for _ in range(times):
        await bot.say(OFFICER, command)
        await bot.advance(timedelta(minutes=3))


async def custom_rows(bot) -> list[CustomNotice]:
    async with bot.app.sessions() as s:
        return list((await s.execute(select(CustomNotice).order_by(CustomNotice.id))).scalars())


def test_subcommand_words_are_no_type_and_no_target():
    targets = set(CATEGORIES) | set(CATEGORIES.values()) | set(ALL)
    [antifraud] = [c for c in plugin.commands if c.name == "反诈"]
    words = [w for sub in antifraud.subcommands for w in sub.words()]
    assert set(words) == {"新增", "添加", "列表", "查看", "删除", "停用", "启用"}
    for word in words:
        assert fraud_type(word) is None, word
        assert word not in targets, word


async def test_an_added_notice_is_pushed_by_type_and_a_deleted_one_stops(run):
    bot = await run()
    await bot.say(OFFICER, f"/反诈 新增 冒充公检法 {SAFE_ACCOUNT}")
    reply = texts(bot, OFFICER)[-1]
    assert reply.startswith("好的，已新增反诈提醒 1（冒充公检法）")
    assert f"【反诈提醒·冒充公检法】{SAFE_ACCOUNT}\n{CALL_LINE}" in reply
    rows = await custom_rows(bot)
    assert [(r.type, r.text, r.created_by) for r in rows] == [("冒充公检法", SAFE_ACCOUNT, bot.contact_id(OFFICER))]

    await bot.restart()  # the library lives in the database
    await push_now(bot, "/反诈 冒充公检法 居民1群", times=4)
    sent = notices(bot, "居民1群")
    assert len(sent) == 4 and len(set(sent)) == 4, "3 built-in notices and the added one, none repeated"
    assert sent.count(f"【反诈提醒·冒充公检法】{SAFE_ACCOUNT}\n{CALL_LINE}") == 1

    await bot.say(OFFICER, "/反诈 删除 1")
    assert texts(bot, OFFICER)[-1] == "已删除反诈提醒 1，以后不会再推送。"
    await push_now(bot, "/反诈 公检法 居民2群", times=4)
    sent = notices(bot, "居民2群")
    assert len(sent) == 4 and len(set(sent)) == 3
    assert not any(SAFE_ACCOUNT in t for t in sent)
    rows = await custom_rows(bot)
    assert rows[0].removed_at is not None and rows[0].removed_by == bot.contact_id(OFFICER)


async def test_an_added_notice_joins_the_scheduled_rotation(run):
    bot = await run()
    await bot.say("小刘", "/反诈 新增 刷单返利 点赞、关注、刷单返佣金的兼职，先给甜头后骗大钱，请拨打96110咨询。")
    assert "已新增反诈提醒 1" in texts(bot, "小刘")[-1]
    await bot.say(OFFICER, "/定时 每天 10:00 反诈 居民1群 刷单返利")
    assert "已建立计划 1" in texts(bot, OFFICER)[-1]
    await bot.run_until(at(2026, 12, 10, 12, 0))
    sent = notices(bot, "居民1群")
    assert len(sent) == 4 and len(set(sent)) == 4
    added = [t for t in sent if "先给甜头后骗大钱" in t]
    # The officer's text names 96110 already, so no line is added to it.
    assert added == ["【反诈提醒·刷单返利】点赞、关注、刷单返佣金的兼职，先给甜头后骗大钱，请拨打96110咨询。"]


async def test_built_in_notices_can_be_stopped_and_started_again(run):
    bot = await run()
    for notice_id in GONGJIANFA:
        await bot.say(OFFICER, f"/反诈 停用 {notice_id}")
        assert texts(bot, OFFICER)[-1].startswith(f"已停用内置提醒 {notice_id}")
    await push_now(bot, "/反诈 冒充公检法 居民1群")
    assert "现在没有可以推送的冒充公检法反诈提醒" in texts(bot, OFFICER)[-1]
    assert notices(bot, "居民1群") == []

    await bot.say(OFFICER, f"/反诈 新增 冒充公检法 {SAFE_ACCOUNT}")
    await push_now(bot, "/反诈 冒充公检法 居民1群", times=2)
    assert [SAFE_ACCOUNT in t for t in notices(bot, "居民1群")] == [True, True]

    await bot.say(OFFICER, "/反诈 列表 冒充公检法")
    listing = texts(bot, OFFICER)[-1]
    assert "· 内置 gongjianfa-xiqian：说您涉嫌洗钱的“警察”，都是假的（已停用）" in listing
    assert "· 新增 1：公检法机关不会通过电话、微信办案，更没有所谓的“安全账户”，……（12-07 添加）" in listing

    await bot.say(OFFICER, "/反诈 启用 gongjianfa-xiqian")
    assert texts(bot, OFFICER)[-1] == "已启用内置提醒 gongjianfa-xiqian，会重新加入轮换推送。"
    await push_now(bot, "/反诈 冒充公检法 居民1群")
    assert "说您涉嫌洗钱" in notices(bot, "居民1群")[-1]
    async with bot.app.sessions() as s:
        disabled = set((await s.execute(select(DisabledNotice.notice_id))).scalars())
    assert disabled == {"gongjianfa-kuaidi-weijinpin", "gongjianfa-yibaoka"}


async def test_the_listing_shows_built_in_and_added_notices(run):
    bot = await run()
    await bot.say(OFFICER, "/反诈 新增 虚假征信 自称“征信中心”要您注销校园贷、修复征信的，都是骗子。")
    await bot.say(OFFICER, "/反诈 列表")
    listing = texts(bot, OFFICER)[-1]
    assert listing.startswith("反诈提醒库（内置 30 条，新增 1 条）：")
    assert "虚假征信：内置 3 条，新增 1 条" in listing and "刷单返利：内置 3 条" in listing
    assert "· 新增 1（虚假征信）：自称“征信中心”要您注销校园贷、修复征信的，都是骗子。（12-07 添加）" in listing
    await bot.say(OFFICER, "/反诈 列表 征信")
    listing = texts(bot, OFFICER)[-1]
    assert listing.startswith("虚假征信的反诈提醒（共 4 条）：")
    assert listing.count("· 内置 zhengxin-") == 3 and "· 新增 1：" in listing


@pytest.mark.parametrize("command, expected", [
    ("/反诈 新增", "用法：/反诈 新增 类型 提醒文字"),
    ("/反诈 新增 中奖 恭喜您中了一等奖", "抱歉，没有“中奖”这个类型。类型有：刷单返利、虚假投资理财"),
    ("/反诈 新增 冒充公检法", "请在类型后面写上提醒文字"),
    ("/反诈 新增 冒充公检法 " + "骗" * 301, "提醒文字有 301 个字，最多 300 个字"),
    ("/反诈 列表 中奖", "抱歉，没有“中奖”这个类型"),
    ("/反诈 删除", "请写上提醒的编号，例如：/反诈 删除 12"),
    ("/反诈 删除 99", "没有编号为“99”的反诈提醒"),
    ("/反诈 删除 gongjianfa-xiqian", "“gongjianfa-xiqian”是内置提醒，不能删除"),
    ("/反诈 停用 随便", "没有编号为“随便”的反诈提醒"),
    ("/反诈 启用 gongjianfa-xiqian", "内置提醒 gongjianfa-xiqian 没有停用"),
])
async def test_bad_library_commands_get_one_clear_line(run, command, expected):
    bot = await run()
    await bot.say(OFFICER, command)
    reply = texts(bot, OFFICER)[-1]
    assert expected in reply and "\n" not in reply
    assert await custom_rows(bot) == []


async def test_an_added_notice_can_be_deleted_but_not_stopped_or_added_twice(run):
    bot = await run()
    await bot.say(OFFICER, f"/反诈 新增 冒充公检法 {SAFE_ACCOUNT}")
    await bot.say("小刘", f"/反诈 添加 公检法 {SAFE_ACCOUNT}")
    assert texts(bot, "小刘")[-1] == "已经有一条一样的提醒了（编号 1），没有重复添加。"
    await bot.say(OFFICER, "/反诈 停用 1")
    assert texts(bot, OFFICER)[-1] == "提醒 1 是新增的，不想再推送请发 /反诈 删除 1。"
    await bot.say(OFFICER, "/反诈 删除 1")
    await bot.say("小刘", "/反诈 删除 1")
    assert "没有编号为“1”" in texts(bot, "小刘")[-1]
    assert len(await custom_rows(bot)) == 1


async def test_residents_cannot_add_notices(run):
    bot = await run()
    await bot.say("王阿姨", "/反诈 新增 刷单返利 大家好", room="居民1群")
    assert "抱歉，这个命令只有" in texts(bot, "居民1群")[-1]
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(CustomNotice))).scalar_one() == 0


async def test_help_names_the_library_commands_and_the_holiday_word(run):
    bot = await run()
    await bot.say(OFFICER, "/帮助 反诈")
    help_text = texts(bot, OFFICER)[-1]
    # Each form on its own line, from the subcommand specs (it was one usage string for all).
    for form in ("/反诈 [类型] [目标]：", "/反诈 新增 类型 文字：", "/反诈 列表 [类型]：", "/反诈 删除 编号：",
                 "/反诈 停用 编号：", "/反诈 启用 编号："):
        assert form in help_text, form
    await bot.say(OFFICER, "/帮助 定时")
    assert "[节假日不发]" in texts(bot, OFFICER)[-1]
    await bot.say(OFFICER, "/反诈 随便 乱写 一通")
    assert "/反诈 新增 类型 文字" in texts(bot, OFFICER)[-1]
