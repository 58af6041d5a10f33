"""Conversations nobody gets stuck in (issue 15), as a resident types them, through the real App.

The harness clock starts on Monday 2026-12-07 08:00 (Asia/Shanghai)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import SHANGHAI
from bot.messages import MessageKind
from storage.appointments import Booking
from storage.models import DialogState
from storage.understanding import Suggestion
from storage.tips import Tip, TipAttachment

PHONE = "13812345678"
WHO = "王阿姨"


async def say(bot, text: str, who: str = WHO, **kwargs) -> str:
    """Say it a few seconds after the last thing; return the bot's last private answer."""
    await bot.advance(timedelta(seconds=15))
    await bot.say(who, text, **kwargs)
    texts = bot.texts_to(who)
    return texts[-1] if texts else ""


async def rows(bot, model):
    async with bot.app.sessions() as session:
        return list((await session.execute(select(model))).scalars())


async def to_name_step(bot, *answers: str) -> None:
    for text in ("预约", "居住证", *answers):
        await say(bot, text)


# ---- one answer, two steps; everyday words ------------------------------------------------------------

async def test_a_day_and_a_time_in_one_answer_fill_both_steps(bot):
    await to_name_step(bot)
    assert "姓名" in await say(bot, "后天上午十点")
    await say(bot, "王芳")
    await say(bot, PHONE)
    assert "12月9日（周三）10:00-10:30" in bot.texts_to(WHO)[-1]


@pytest.mark.parametrize("said, slot", [("十点", "10:00"), ("10点半", "10:30"), ("九点半", "09:30"),
                                        ("下午两点", "14:00"), ("两点", "14:00"), ("下午2点半", "14:30")])
async def test_a_time_as_people_say_it(bot, said, slot):
    await to_name_step(bot, "明天")
    assert "姓名" in await say(bot, said)
    await say(bot, "王芳")
    assert f"12月8日（周二）{slot}" in await say(bot, PHONE)


async def test_whatever_is_free_first_for_a_vague_answer(bot):
    await to_name_step(bot)
    slots = await say(bot, "随便哪天都行")
    assert slots.startswith("好的，最早能约的是12月7日（周一）") and "还有这些时间" in slots
    assert "姓名" in await say(bot, "最早")
    assert bot.texts_to(WHO)[-2] == "好的，最早的是12月7日（周一）09:00。"


async def test_a_full_time_typed_gets_the_nearest_free_ones(bot):
    for who in ("陈大爷", "李奶奶", "赵叔"):  # 居住证 takes 3 a slot
        for text in ("预约", "居住证", "明天", "10点", who + "本人", f"1390000000{len(who)}", "确认"):
            await say(bot, text, who=who)
    await to_name_step(bot, "明天")
    answer = await say(bot, "10点")
    assert answer.startswith("12月8日（周二）10:00这个时间已约满，最近还有：") and "10:30" in answer


async def test_no_more_than_six_choices_and_more_for_the_rest(bot):
    await to_name_step(bot, "明天")
    slots = bot.texts_to(WHO)[-1]
    assert "6. 14:00-14:30" in slots and "7." not in slots and "回复“更多”看其余5个" in slots
    more = await say(bot, "更多")
    assert "7. 14:30-15:00" in more and "1. 09:00" not in more
    assert "姓名" in await say(bot, "7")


async def test_the_day_prompt_uses_real_upcoming_dates(bot):
    days = (await say(bot, "预约"), await say(bot, "居住证"))[1]
    assert "或直接说“明天”或“12月9日”" in days and "12月7日（周一）" in days  # days really open
    assert "如“9点半”" in await say(bot, "明天")


@pytest.mark.parametrize("yes", ["嗯", "行", "对", "好的", "确认。", "没问题", "OK", "👌", "嗯嗯", "好的好的"])
async def test_every_everyday_yes_confirms(bot, yes):
    await to_name_step(bot, "明天", "1")
    await say(bot, "王芳")
    await say(bot, PHONE)
    assert "预约成功" in await say(bot, yes)


async def test_a_same_day_booking_promises_only_the_reminder_that_will_come(bot):
    await to_name_step(bot, "今天", "下午3点")
    await say(bot, "王芳")
    await say(bot, PHONE)
    done = await say(bot, "确认")
    assert "开始前一小时我会提醒您" in done and "前一天晚上" not in done


# ---- ways out, asides -----------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["不约了", "取消了吧", "取消。", "算了", "不办了！", "退出"])
async def test_every_way_to_stop_a_booking_stops_it(bot, word):
    await to_name_step(bot, "明天")
    assert "已取消" in await say(bot, word)
    assert await rows(bot, DialogState) == []


async def test_asides_inside_a_booking_are_answered_and_the_booking_waits(bot):
    await to_name_step(bot, "明天")
    await say(bot, "办居住证要带什么？")
    answer, reminder = bot.texts_to(WHO)[-2:]
    assert "租房合同" in answer and "预约还没办完，正在选时间" in reminder
    await say(bot, "建议：小区健身器材坏了")
    assert "谢谢" in bot.texts_to(WHO)[-1]
    assert len(await rows(bot, Suggestion)) == 1
    await say(bot, "我的预约")
    assert "没有预约" in bot.texts_to(WHO)[-1]
    await say(bot, "/帮助")
    assert "可以帮您" in bot.texts_to(WHO)[-1]
    assert "姓名" in await say(bot, "9点半")  # and on with the booking, nothing lost


async def test_a_resident_slash_means_the_words(bot):
    assert "要办哪一项" in await say(bot, "/预约")
    await say(bot, "取消")
    assert "哪一类" in await say(bot, "/举报")
    await say(bot, "取消")
    assert "谢谢" in await say(bot, "/建议 小区健身器材坏了")
    [suggestion] = await rows(bot, Suggestion)
    assert "小区健身器材坏了" in suggestion.text  # the suggestion itself, not lost
    assert "没有预约" in await say(bot, "/我的预约")


# ---- private chat is never silent ---------------------------------------------------------------------

@pytest.mark.parametrize("said, expected", [
    ("帮助", "可以帮您"), ("菜单", "可以帮您"), ("你好", "可以帮您"), ("在吗？", "可以帮您"),
    ("查询", "查询码是提交线索时给您的16位数字"), ("查询 1234 5678 9012 345", "查询码是16位数字，您发的是15位"),
    ("嗯嗯好的", "没太看懂"), ("123", "没太看懂")])
async def test_private_chat_is_never_silent(bot, said, expected):
    assert expected in await say(bot, said)


# ---- work is not thrown away --------------------------------------------------------------------------

async def book(bot, day="明天", slot="1", who=WHO) -> Booking:
    for text in ("预约", "居住证", day, slot, "王芳", PHONE, "确认"):
        await say(bot, text, who=who)
    return (await rows(bot, Booking))[-1]


async def test_cancel_without_a_code_asks_about_the_one_booking(bot):
    b = await book(bot)
    ask = await say(bot, "取消预约")
    assert b.code in ask and "确定要取消吗" in ask
    assert "保留着" in await say(bot, "不")
    assert (await rows(bot, Booking))[0].status == "booked"
    await say(bot, "取消预约")
    assert "已为您取消" in await say(bot, "确认")
    assert (await rows(bot, Booking))[0].status == "cancelled"


async def test_reschedule_keeps_the_code_and_leaving_it_keeps_the_booking(bot):
    b = await book(bot)
    assert "为您改约居住证" in (await say(bot, "改约"), bot.texts_to(WHO)[-2])[1]
    assert f"原来的预约（12月8日（周二）09:00-09:30，预约码 {b.code}）还保留着" in await say(bot, "算了")
    await say(bot, "改约")
    await say(bot, "后天下午两点")
    assert f"预约码还是 {b.code}" in await say(bot, "确认")
    [moved] = await rows(bot, Booking)
    assert moved.code == b.code and moved.slot_start == datetime(2026, 12, 9, 14, 0, tzinfo=SHANGHAI)


async def test_a_crash_at_the_confirm_is_told_after_the_restart(bot, monkeypatch):
    from handlers.appointments import dialog

    await to_name_step(bot, "明天", "1")
    await say(bot, "王芳")
    await say(bot, PHONE)

    async def killed(ctx, data):
        raise asyncio.CancelledError  # the process dies before the booking's transaction commits

    monkeypatch.setattr(dialog, "book", killed)
    with pytest.raises(asyncio.CancelledError):
        await bot.say(WHO, "确认")
    monkeypatch.undo()
    bot.take()
    await bot.restart()
    assert bot.texts_to(WHO, bot.take()) == ["刚才系统重启，您的预约还没有提交。回复“确认”继续。"]
    assert "预约成功" in await say(bot, "确认")


async def test_a_tip_left_at_the_summary_is_offered_back_for_a_day(bot):
    for text in ("举报", "2", "5号楼地下室有人吸毒", "昨天晚上", "匿名"):
        await say(bot, text)
    assert "身份：保密" in bot.texts_to(WHO)[-1]  # 匿名 is 保密
    bot.take()
    await bot.advance(timedelta(minutes=31))
    assert bot.texts_to(WHO, bot.take()) == ["您上次的线索还没提交，回复“继续”接着填（24小时内有效）；不需要就不用管它。"]
    assert "可以帮您" in await say(bot, "你好")  # meanwhile the chat is free
    await bot.advance(timedelta(hours=20))
    assert "情况：5号楼地下室有人吸毒" in await say(bot, "继续")
    assert "查询码" in await say(bot, "确认")
    assert len(await rows(bot, Tip)) == 1


async def test_a_tip_offered_back_is_dropped_after_a_day(bot):
    for text in ("举报", "2", "有人吸毒", "跳过", "不用"):
        await say(bot, text)
    await bot.say(WHO, "a.jpg", kind=MessageKind.IMAGE,
                  attachment=b"img" * 10)
    await bot.advance(timedelta(minutes=31))
    await bot.advance(timedelta(hours=25))
    assert await rows(bot, DialogState) == [] and await rows(bot, TipAttachment) == []
    assert "可以帮您" in await say(bot, "继续")


async def test_an_officer_date_far_off_is_answered_in_one_line(bot):
    for command in ("/预约 9999-12-31", "/预约 关闭 9999-01-01", "/预约 开放 1900-01-01"):
        assert "太远了" in await say(bot, command, who="张警官"), command
    assert "12月8日" in await say(bot, "/预约 明天", who="张警官")


async def test_a_request_at_the_name_step_is_no_name(bot):
    await to_name_step(bot, "明天", "1")
    assert "哪一类" in await say(bot, "举报")  # not a person called 举报: the tip it asks for
