"""Officers reach residents who asked to be reached (issue 16): /预约 电话 shows a booker's whole
number to an officer, audited; the emergency alert to officers carries the caller's number whole;
work groups, lists, the outbox after sending and the audit log stay masked."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, OutboxMessage
from tests.test_appointments import book, last, say

PHONE = "13812345678"
MASKED = "138****5678"
WORK = "幸福里警务工作群"


async def audit(bot) -> list[tuple[str, str, str]]:
    async with bot.app.sessions() as session:
        return [tuple(r) for r in (await session.execute(
            select(AuditEntry.command, AuditEntry.args, AuditEntry.outcome).order_by(AuditEntry.id))).all()]


async def outbox_texts(bot) -> str:
    async with bot.app.sessions() as session:
        return "\n".join(t or "" for t in (await session.execute(select(OutboxMessage.body))).scalars())


async def test_an_officer_sees_a_bookers_number_and_it_is_audited(bot):
    code = await book(bot, "王阿姨", phone=PHONE)
    await say(bot, "张警官", "/预约 明天")
    listing = await last(bot, "张警官")
    assert MASKED in listing and PHONE not in listing and "/预约 电话 预约码" in listing
    await say(bot, "张警官", f"/预约 电话 {code.lower()}")
    shown = await last(bot, "张警官")
    assert f"王芳 的手机号：{PHONE}" in shown and "审计日志" in shown
    assert ("预约 电话", code.lower(), f"phone shown: {code}") in await audit(bot)
    await say(bot, "小刘", f"/预约 电话 {code}")  # staff may list the day, not read the number
    assert PHONE not in await last(bot, "小刘")
    await say(bot, "张警官", "/预约 电话 ZZZZZZ")
    assert "ZZZZZZ" in await last(bot, "张警官")
    assert PHONE not in await outbox_texts(bot)  # the reply's text is gone once sent
    assert all(PHONE not in " ".join(row) for row in await audit(bot))


async def test_the_emergency_alert_gives_officers_the_whole_number_and_groups_a_masked_one(bot):
    await bot.say("陈大爷", f"我老伴晕倒了叫不醒，快来人，我电话{PHONE}", room="幸福里居民群")
    sent = bot.take()
    [to_officer] = bot.texts_to("张警官", sent)
    assert to_officer.startswith("【紧急】") and PHONE in to_officer
    [to_work] = bot.texts_to(WORK, sent)
    assert MASKED in to_work and PHONE not in to_work
    assert all(PHONE not in t for t in bot.texts_to("幸福里居民群", sent))
    [entry] = [a for a in await audit(bot) if a[0] == "紧急求助 号码"]
    assert MASKED in entry[1] and PHONE not in entry[1] and entry[2] == "full number sent to 1 officer(s)"
    assert PHONE not in await outbox_texts(bot)
