"""Replies that fit the danger, warnings that name the scam, and officers correcting the bot:
a resident's message in a group through the real App, the reply and the officer's alert out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.understanding import IntentCase

RESIDENTS = "幸福里居民群"
WORK = "幸福里警务工作群"


def group_texts(bot, sent) -> list[str]:
    return bot.texts_to(RESIDENTS, sent)


@pytest.mark.parametrize("text, number, must_say, must_not", [
    ("救命 厨房煤气漏了 一屋子味", "119", ("不要开灯", "开门窗"), ("120",)),
    ("3单元5楼着火了 好大的烟", "119", ("不要坐电梯",), ("120",)),
    ("楼下两口子吵着吵着动刀了 都见血了", "110", ("离远一点",), ()),
    ("我爸突然倒地上叫不醒了", "120", ("告诉对方", "清醒不清醒"), ("119",)),
    ("孙女在超市门口一转眼就不见了 五岁 穿粉衣服", "110", ("24 小时", "穿什么衣服"), ("119",)),
])
async def test_emergency_reply_fits_the_danger(bot, text, number, must_say, must_not):
    await bot.say("陈大爷", text, room=RESIDENTS)
    sent = bot.take()
    [reply] = group_texts(bot, sent)  # one reply, not a bundle
    assert f"拨打 {number}" in reply
    for words in must_say:
        assert words in reply
    for other in must_not:
        assert other not in reply
    [alert] = bot.texts_to("张警官", sent)
    assert "【紧急】" in alert and "陈大爷" in alert and f"拨打 {number}" in alert


@pytest.mark.parametrize("text", [
    "孩子的户口本丢了怎么补",
    "我妈身份证找不到了咋补办",
    "老伴的钥匙找不到了",
    "煤气灶打不着火怎么办",
    "昨晚三楼着火了 还好没人受伤",
    "今天下午小区消防演练 大家别慌",
    "热死了 这天儿要把人烤化了",
])
async def test_look_alikes_raise_no_alarm(bot, text):
    await bot.say("王阿姨", text, room=RESIDENTS)
    sent = bot.take()
    assert not any("【紧急】" in t for t in bot.texts_to("张警官", sent))
    assert not bot.texts_to(WORK, sent)  # the resident's words are not posted to the work group
    assert not any(re.search(r"拨打 1[12]\d", t) for t in group_texts(bot, sent))


async def test_fake_etc_link_is_named_and_its_link_called_out(bot):
    await bot.say("小周", "【ETC服务】您的ETC认证已失效，请点击 http://etc-renzheng.top 重新认证，逾期停用", room=RESIDENTS)
    sent = bot.take()
    [warning] = group_texts(bot, sent)
    assert "虚假缴费链接" in warning and "链接不是政府网站" in warning
    [notice] = bot.texts_to("张警官", sent)
    assert "纠正号" in notice


async def test_safe_account_and_code_are_called_out(bot):
    await bot.say("小周", "我是市公安局的，你的医保卡涉嫌违规套取，把钱转到安全账户，把验证码报给我", room=RESIDENTS)
    [warning] = group_texts(bot, bot.take())
    assert "冒充公检法" in warning and "安全账户" in warning and "验证码谁也不能给" in warning


async def test_a_resident_warning_others_with_a_script_is_not_warned(bot):
    await bot.say("王阿姨", "大家注意！有人打电话说是公安局的，让把钱转到安全账户，千万别信，是骗子", room=RESIDENTS)
    assert not any("很像" in t for t in group_texts(bot, bot.take()))


async def test_officer_corrects_an_alert_and_it_becomes_labelled_data(bot):
    await bot.say("陈大爷", "救命啊 有人拿刀在单元门口追人", room=RESIDENTS)
    [alert] = bot.texts_to("张警官", bot.take())
    n = re.search(r"纠正号 (\d+)", alert).group(1)

    await bot.say("王阿姨", f"/纠正 {n} 其他", room=RESIDENTS)  # a resident may not
    async with bot.app.sessions() as session:
        assert (await session.get(IntentCase, int(n))).label is None

    await bot.say("张警官", f"/纠正 {n} 其他")
    assert "已记下" in bot.texts_to("张警官", bot.take())[-1]
    await bot.say("张警官", "/纠正 999 其他")
    assert "没有纠正号 999" in bot.texts_to("张警官", bot.take())[-1]
    await bot.say("张警官", f"/纠正 {n} 乱写")
    assert "不认识" in bot.texts_to("张警官", bot.take())[-1]

    async with bot.app.sessions() as session:
        [case] = (await session.execute(select(IntentCase))).scalars()
    assert (case.label, case.predicted, case.corrected_by) == ("other", "emergency", bot.contact_id("张警官"))
    assert "拿刀" in case.text

    from storage.understanding import corrected_cases
    async with bot.app.sessions() as session:
        assert await corrected_cases(session) == [("other", case.text)]
