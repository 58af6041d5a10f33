"""预约办理 as conversations: residents book in private chat, officers run the day.

The harness clock starts on Monday 2026-12-07 08:00 (Asia/Shanghai) unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.clock import SHANGHAI, FakeClock
from bot.harness import Harness
from handlers.appointments.codes import CODE_ALPHABET
from handlers.appointments.parse import parse_day
from storage import counters
from storage.appointments import Booking, SlotFill, take_place
from storage.models import Base
from tests.conftest import make_config, sample_raw

CODE_RE = re.compile(rf"预约码是 ([{CODE_ALPHABET}]{{6}})")
PHONE = "13812345678"


async def last(bot, who: str) -> str:
    return bot.texts_to(who)[-1]


async def say(bot, who: str, text: str, **kwargs) -> None:
    """A person takes a few seconds to type: the same answer twice in 10 s would be a redelivery."""
    await bot.advance(timedelta(seconds=15))
    await bot.say(who, text, **kwargs)


async def book(bot, who: str, *, service="居住证", day="明天", slot="1", name="王芳", phone=PHONE) -> str:
    """The whole dialog; returns the booking code."""
    for text in ("预约", service, day, slot, name, phone, "确认"):
        await say(bot, who, text)
    reply = bot.texts_to(who)[-1]
    match = CODE_RE.search(reply)
    assert match, reply
    return match[1]


async def bookings(bot) -> list[Booking]:
    async with bot.app.sessions() as session:
        return list((await session.execute(select(Booking).order_by(Booking.id))).scalars())


async def count(bot, metric: str, key: str) -> int:
    async with bot.app.sessions() as session:
        return await counters.total(session, bot.app.name, metric, key=key)


def harness_at(config, when: datetime) -> Harness:
    return Harness(config, clock=FakeClock(when))


# ---- the dialog -------------------------------------------------------------------------------------

async def test_full_booking_by_words(bot):
    await say(bot, "王阿姨", "预约")
    assert "1. 居住证" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "居住证")
    days = await last(bot, "王阿姨")
    assert "12月8日（周二）" in days and "12月12日" not in days  # a Saturday is not offered
    await say(bot, "王阿姨", "明天上午")
    slots = await last(bot, "王阿姨")
    assert "09:30-10:00 还剩3位" in slots and "14:00" not in slots
    await say(bot, "王阿姨", "9点半")
    assert "姓名" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "王芳")
    assert "手机号" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "138 1234 5678")
    summary = await last(bot, "王阿姨")
    assert "12月8日（周二）09:30-10:00" in summary and "138****5678" in summary and "租房合同" in summary
    await say(bot, "王阿姨", "确认")
    done = await last(bot, "王阿姨")
    assert CODE_RE.search(done) and "取消预约" in done and "幸福里社区警务室" in done
    [b] = await bookings(bot)
    assert (b.service, b.name, b.status) == ("居住证", "王芳", "booked")
    assert b.slot_start == datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI)
    assert bot.app.vault.decrypt(b.phone_enc) == PHONE
    assert await count(bot, "appointments_booked", "居住证") == 1


async def test_numbers_work_at_every_step(bot):
    code = await book(bot, "陈大爷", service="2", day="1", slot="2", name="陈建国", phone="13912345678")
    [b] = await bookings(bot)
    assert b.code == code and b.service == "身份证"
    assert b.slot_start == datetime(2026, 12, 7, 9, 20, tzinfo=SHANGHAI)  # today, second 20-minute slot


async def test_every_answer_that_fits_nothing_gets_one_short_line(bot):
    await say(bot, "王阿姨", "预约")
    await say(bot, "王阿姨", "火箭发射")
    assert await last(bot, "王阿姨") == "没看明白要办哪一项，请回复前面的数字，比如“1”。"
    await say(bot, "王阿姨", "居住证")
    await say(bot, "王阿姨", "下个月吧")
    assert "没看明白是哪一天" in await last(bot, "王阿姨") and "1." not in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "12月12日")
    assert "12月12日（周六）不能预约" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "周三")
    assert "12月9日（周三）" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "23:00")
    assert "23:00警务室不办理" in await last(bot, "王阿姨") and "14:00-17:00" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "下午")
    assert "12月9日（周三）下午还有这些时间" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "1")
    assert "姓名" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "12")
    assert "不要带数字" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "我叫王芳")
    await say(bot, "王阿姨", "12345")
    assert "11位" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", PHONE)
    await say(bot, "王阿姨", "嗯？")
    assert "确认" in await last(bot, "王阿姨") and "请核对" not in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "好的")
    [b] = await bookings(bot)
    assert b.name == "王芳" and b.slot_start == datetime(2026, 12, 9, 14, 0, tzinfo=SHANGHAI)


async def test_back_goes_one_step_and_cancel_leaves(bot):
    for t in ("预约", "1", "明天", "1", "王芳"):
        await say(bot, "王阿姨", t)
    assert "手机号" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "返回")
    assert "姓名" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "返回")
    assert "还有这些时间" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "取消")
    assert "已取消" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "1")
    assert "没太看懂" in await last(bot, "王阿姨")  # no dialog any more: "1" gets the menu
    assert await bookings(bot) == []


async def test_silence_for_30_minutes_ends_the_dialog(bot):
    await say(bot, "王阿姨", "预约")
    await say(bot, "王阿姨", "居住证")
    await bot.advance(timedelta(minutes=31))
    assert "30分钟没有回复" in await last(bot, "王阿姨")  # said by the timeout itself
    await say(bot, "王阿姨", "1")
    assert "没太看懂" in await last(bot, "王阿姨")  # no dialog any more: the menu
    assert await bookings(bot) == []


async def test_a_restart_mid_dialog_loses_nothing(bot):
    for t in ("预约", "居住证", "明天", "1", "王芳"):
        await say(bot, "王阿姨", t)
    await bot.restart()
    await say(bot, "王阿姨", PHONE)
    assert "请核对" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "确认")
    assert CODE_RE.search(await last(bot, "王阿姨"))


async def test_booking_said_in_a_group_gets_a_short_hint_and_asks_nothing(bot):
    await say(bot, "王阿姨", "预约", room="幸福里居民群")
    [reply] = bot.texts_to("幸福里居民群")
    assert "私聊" in reply and "加我为好友" in reply
    assert bot.texts_to("王阿姨") == []
    await say(bot, "王阿姨", "1", room="幸福里居民群")  # no dialog was started in the group
    assert len(bot.texts_to("幸福里居民群")) == 1


# ---- codes, capacity, the resident's own bookings ------------------------------------------------------

async def test_one_active_booking_per_service_and_my_bookings_cancel_and_reschedule(bot):
    code = await book(bot, "王阿姨")
    await say(bot, "王阿姨", "预约居住证")
    assert f"预约码 {code}" in await last(bot, "王阿姨") and "只能约一个" in await last(bot, "王阿姨")
    await say(bot, "王阿姨", "我的预约")
    mine = await last(bot, "王阿姨")
    assert code in mine and "居住证" in mine
    await say(bot, "王阿姨", "我的预约", room="幸福里居民群")
    assert code not in bot.texts_to("幸福里居民群")[-1]

    await say(bot, "王阿姨", f"改约 {code.lower()}")
    assert "为您改约居住证" in bot.texts_to("王阿姨")[-2]
    await say(bot, "王阿姨", "周四")
    await say(bot, "王阿姨", "下午2点")
    assert "请核对" in await last(bot, "王阿姨")  # name and phone kept from the booking
    await say(bot, "王阿姨", "确认")
    assert f"改约成功！预约码还是 {code}" in await last(bot, "王阿姨")
    [moved] = await bookings(bot)  # the same booking, the same code, at the new time
    assert (moved.code, moved.status, moved.note) == (code, "booked", "改约")
    assert moved.slot_start == datetime(2026, 12, 10, 14, 0, tzinfo=SHANGHAI)

    await say(bot, "陈大爷", f"取消预约 {code}")
    assert "没有找到" in await last(bot, "陈大爷")  # not his booking
    await say(bot, "王阿姨", f"取消预约 {code}")
    assert "已为您取消" in await last(bot, "王阿姨")
    assert [b.status for b in await bookings(bot)] == ["cancelled"]
    assert await count(bot, "appointments_cancelled", "居住证") == 1
    async with bot.app.sessions() as session:
        assert all(s.taken == 0 for s in (await session.execute(select(SlotFill))).scalars())
    assert all(c not in code for c in "0O1I")


@pytest.fixture
def two_place_config(db_url):
    raw = sample_raw()
    service = next(s for s in raw["services"] if s["name"] == "居住证")
    return make_config(db_url, services=[{**service, "capacity": 2}], guide=[])


async def test_two_residents_racing_for_the_last_place(two_place_config):
    async with Harness(two_place_config) as bot:
        await book(bot, "小周", day="明天", slot="9:00", name="周小明", phone="13700001111")
        for who in ("王阿姨", "陈大爷"):
            for t in ("预约", "1", "明天", "9:00", who, PHONE if who == "王阿姨" else "13912345678"):
                await say(bot, who, t)
            assert "请核对" in await last(bot, who)
        await asyncio.gather(bot.say("王阿姨", "确认", settle=False), bot.say("陈大爷", "确认", settle=False))
        await bot.settle()
        rows = await bookings(bot)
        assert len(rows) == 2
        loser = "陈大爷" if rows[1].contact_id == bot.contact_id("王阿姨") else "王阿姨"
        assert "刚刚被别人约满" in bot.texts_to(loser)[-2]
        assert "09:00" not in await last(bot, loser) and "09:30-10:00" in await last(bot, loser)
        await say(bot, loser, "1")  # offered the next slot, and takes it
        await say(bot, loser, "确认")
        assert CODE_RE.search(await last(bot, loser))
        assert len(await bookings(bot)) == 3


async def test_take_place_is_atomic_under_concurrent_tasks(bot):
    slot = datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI)

    async def attempt() -> bool:
        async with bot.app.sessions.begin() as session:
            return await take_place(session, bot.app.name, "居住证", slot, 2)

    results = await asyncio.gather(*(attempt() for _ in range(8)))
    assert sorted(results) == [False] * 6 + [True] * 2
    async with bot.app.sessions() as session:
        assert (await session.get(SlotFill, (bot.app.name, "居住证", slot))).taken == 2


def private(records):
    return [r for r in records if r.out.room_id is None]


# ---- reminders ------------------------------------------------------------------------------------------

async def test_reminders_the_evening_before_and_an_hour_before_not_for_cancelled(bot):
    code = await book(bot, "王阿姨", day="明天", slot="9:00")
    other = await book(bot, "陈大爷", day="明天", slot="9:00", name="陈建国", phone="13912345678")
    await say(bot, "陈大爷", f"取消预约 {other}")
    bot.take()
    await bot.run_until(datetime(2026, 12, 7, 17, 59, tzinfo=SHANGHAI))
    assert private(bot.take()) == []  # groups get their scheduled pushes meanwhile
    await bot.advance(timedelta(minutes=2))
    sent = bot.take()
    [evening] = bot.texts_to("王阿姨", sent)
    assert "明天" in evening and code in evening and "租房合同" in evening
    sent = private(sent)
    assert sent[0].at.hour == 18 and bot.texts_to("陈大爷", sent) == []
    await bot.run_until(datetime(2026, 12, 8, 7, 59, tzinfo=SHANGHAI))
    assert private(bot.take()) == []
    await bot.advance(timedelta(minutes=2))
    sent = bot.take()
    [hour] = bot.texts_to("王阿姨", sent)
    assert "一小时后（09:00）" in hour and sent[0].at.strftime("%H:%M") == "08:00"
    await bot.restart()  # the start-up catch-up must not send anything twice
    await bot.advance(timedelta(hours=12))
    assert bot.texts_to("王阿姨", bot.take()) == []


# ---- the calendar -------------------------------------------------------------------------------------

async def test_public_holidays_are_not_offered_and_a_makeup_workday_is(db_url):
    config = make_config(db_url)
    async with harness_at(config, datetime(2026, 9, 28, 8, 0, tzinfo=SHANGHAI)) as bot:
        await say(bot, "王阿姨", "预约")
        await say(bot, "王阿姨", "居住证")
        days = await last(bot, "王阿姨")
        assert "9月30日" in days
        assert not any(f"10月{d}日" in days for d in range(1, 8))  # National Day week
        assert "10月9日（周五）" in days and "10月10日（周六）" in days  # 10-10 is a make-up workday
        await say(bot, "王阿姨", "10月2日")
        assert "10月2日（周五）不能预约" in await last(bot, "王阿姨") and "最近能约的是：9月28日" in await last(bot, "王阿姨")


async def test_a_year_the_calendar_does_not_know_falls_back_and_warns_once(db_url, caplog, calendar_knows):
    calendar_knows(2026)
    config = make_config(db_url)
    with caplog.at_level(logging.WARNING):
        async with harness_at(config, datetime(2026, 12, 28, 8, 0, tzinfo=SHANGHAI)) as bot:
            for who in ("王阿姨", "陈大爷"):
                await say(bot, who, "预约")
                await say(bot, who, "居住证")
            days = await last(bot, "王阿姨")
            assert "1月4日（周一）" in days and "1月1日" not in days  # 元旦, a statutory day
    warnings = [r.getMessage() for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1 and "extra_holidays" in warnings[0]


async def test_holidays_listed_in_config_close_an_unknown_year(db_url, calendar_knows):
    calendar_knows(2026)
    config = make_config(db_url, calendar={"extra_holidays": ["2027-01-04"], "extra_workdays": []})
    async with harness_at(config, datetime(2026, 12, 28, 8, 0, tzinfo=SHANGHAI)) as bot:
        await say(bot, "王阿姨", "预约")
        await say(bot, "王阿姨", "居住证")
        days = await last(bot, "王阿姨")
        assert "12月31日" in days and "1月1日" not in days and "1月4日" not in days and "1月5日" in days


# ---- officers -----------------------------------------------------------------------------------------

async def test_officer_day_list_complete_and_no_show(bot):
    a = await book(bot, "王阿姨", day="明天", slot="9:00")
    b = await book(bot, "陈大爷", day="明天", slot="9:30", name="陈建国", phone="13912345678")
    await say(bot, "张警官", "/预约 明天")
    listing = await last(bot, "张警官")
    assert "王芳" in listing and "138****5678" in listing and PHONE not in listing and a in listing
    await say(bot, "张警官", "/预约 明天", room="幸福里警务工作群")
    assert "私聊" in bot.texts_to("幸福里警务工作群")[-1]
    assert all("王芳" not in t for t in bot.texts_to("幸福里警务工作群"))
    await say(bot, "小刘", f"/预约 完成 {a}")
    assert "已办结" in await last(bot, "小刘")
    await say(bot, "张警官", f"/预约 爽约 {b}")
    assert "还没到，现在不能标爽约" in await last(bot, "张警官")  # the slot has not begun
    await bot.advance(timedelta(days=1, hours=2))  # tomorrow 10:00: 9:30 has come and gone
    await say(bot, "张警官", f"/预约 爽约 {b}")
    assert "→ 爽约" in await last(bot, "张警官")
    await say(bot, "张警官", f"/预约 完成 {b}")
    assert "不能再改" in await last(bot, "张警官")
    assert [r.status for r in await bookings(bot)] == ["completed", "no_show"]
    assert await count(bot, "appointments_completed", "居住证") == 1
    assert await count(bot, "appointments_no_show", "居住证") == 1


async def test_a_resident_cannot_run_the_officer_commands(bot):
    code = await book(bot, "王阿姨")
    for command in (f"/预约 完成 {code}", f"/预约 爽约 {code}", "/预约 关闭 明天", "/预约 导出 12月1日 12月31日"):
        await say(bot, "王阿姨", command)
        assert "只有" in await last(bot, "王阿姨"), command
    [b] = await bookings(bot)
    assert b.status == "booked"
    await say(bot, "王阿姨", "/预约")  # a resident's /预约 is the word 预约: a booking, not a refusal
    assert "要办哪一项" in await last(bot, "王阿姨")


async def test_officer_closes_a_day_and_the_residents_booked_are_told(bot):
    await book(bot, "王阿姨", day="12月9日", slot="9:00")
    await book(bot, "陈大爷", service="身份证", day="12月9日", slot="1", name="陈建国", phone="13912345678")
    await say(bot, "张警官", "/预约 关闭 12月9日 民警外出培训")
    assert "已通知2位" in await last(bot, "张警官")
    for who in ("王阿姨", "陈大爷"):
        notice = await last(bot, who)
        assert "12月9日（周三）警务室暂停办理" in notice and "民警外出培训" in notice
        assert "12月8日（周二）" in notice and "12月9日（周三）、" not in notice  # other days offered
    assert [r.status for r in await bookings(bot)] == ["cancelled", "cancelled"]
    await say(bot, "小周", "预约")
    await say(bot, "小周", "居住证")
    assert "12月9日" not in await last(bot, "小周")
    await say(bot, "张警官", "/预约 开放 12月9日")
    await say(bot, "小周", "返回")
    await say(bot, "小周", "居住证")
    assert "12月9日" in await last(bot, "小周")


async def test_export_writes_the_reception_register(bot, tmp_path):
    """/预约 导出 writes the 接待服务登记簿 (the same file as `jingmin export registers`) and sends it."""
    a = await book(bot, "王阿姨", day="明天", slot="9:00")
    b = await book(bot, "陈大爷", day="明天", slot="9:30", name="陈建国", phone="13912345678")
    await say(bot, "张警官", f"/预约 完成 {a}")
    await say(bot, "陈大爷", f"取消预约 {b}")
    await say(bot, "张警官", "/预约 导出 2026-12-01 2026-12-31")
    reply = bot.texts_to("张警官")[-3]
    assert "共2条" in reply and "exports/接待服务登记簿_20261201-20261231.xlsx" in reply
    files = [r for r in bot.sent if r.out.kind == "file"]
    assert [r.out.contact_id for r in files] == [bot.contact_id("张警官")] * 2
    assert all(r.out.room_id is None for r in files)
    [csv_path] = [r.out.text for r in files if r.out.text.endswith(".csv")]
    with open(csv_path, encoding="utf-8-sig") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["序号", "登记时间", "类别", "事项", "来源", "群众", "办理情况", "办结时间", "经办人"]
    assert [(r[2], r[3], r[5], r[6]) for r in rows] == [("预约办理", "居住证", "王*", "已办结"),
                                                        ("预约办理", "居住证", "陈**", "已取消")]
    assert rows[0][1].startswith("2026-12-07 08:0")  # recorded by the system when booked
    assert PHONE not in open(csv_path, encoding="utf-8-sig").read()


# ---- personal data --------------------------------------------------------------------------------------

async def test_the_database_dump_holds_no_plaintext_phone_number(bot):
    await book(bot, "王阿姨")
    for t in ("预约", "居住证", "明天", "1", "陈建国", "13912345678"):  # left mid-dialog, at the summary
        await say(bot, "陈大爷", t)
    await say(bot, "张警官", "/预约 明天")
    dump = []
    async with bot.app.sessions() as session:
        for table in Base.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in (await session.execute(table.select())).all()]
    blob = "\n".join(dump)
    assert "王芳" in blob  # the dump did read the bookings
    assert PHONE not in blob and "13912345678" not in blob


def test_parse_day_words():
    today = date(2026, 12, 7)  # a Monday
    assert parse_day("明天上午", today) == date(2026, 12, 8)
    assert parse_day("后天", today) == date(2026, 12, 9)
    assert parse_day("12月10日", today) == date(2026, 12, 10)
    assert parse_day("2027-01-04", today) == date(2027, 1, 4)
    assert parse_day("1月4日", today) == date(2027, 1, 4)
    assert parse_day("周一", today) == date(2026, 12, 14)
    assert parse_day("下周二", today) == date(2026, 12, 15)
    assert parse_day("随便", today) is None
