"""Routing: each message goes to one place; roles by contact id; bad input never breaks the bot."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.harness import Harness
from bot.messages import MessageKind
from storage import counters
from storage.models import AuditEntry, ProcessedMessage
from tests.conftest import make_config


async def audit_rows(bot):
    async with bot.app.sessions() as s:
        return (await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars().all()


async def test_officer_help_lists_officer_commands(bot):
    await bot.say("张警官", "/帮助", room="幸福里警务工作群")
    [reply] = bot.take()  # one message, one line a command: it has to fit a phone
    assert "/审计" in reply.out.text and "/预约" in reply.out.text
    await bot.say("张警官", "/帮助 预约", room="幸福里警务工作群")
    assert "/预约 完成" in bot.texts_to("幸福里警务工作群", bot.take())[-1]
    await bot.say("张警官", "/帮助 开飞机", room="幸福里警务工作群")
    assert "没有“开飞机”这个命令" in bot.texts_to("幸福里警务工作群", bot.take())[-1]


async def test_resident_named_like_the_officer_cannot_run_officer_commands(bot):
    # A resident renamed to "张警官": the role comes from the contact id, not the nickname.
    from bot.messages import IncomingMessage

    impostor = "wx_impostor"

    await bot.transport.deliver(IncomingMessage(
        id="imp1", sender_id=impostor, sender_name="张警官", text="/审计", at=bot.clock.now(),
        room_id=bot.room_id("幸福里居民群"), room_name="幸福里居民群"))
    await bot.settle()
    [reply] = bot.take()
    assert "只有社区民警可以使用" in reply.out.text
    rows = await audit_rows(bot)
    assert [(r.actor_id, r.command, r.outcome) for r in rows] == [(impostor, "审计", "refused: role")]


async def test_officer_commands_are_audited(bot):
    await bot.say("张警官", "/审计", room="幸福里警务工作群")
    rows = await audit_rows(bot)
    assert [(r.actor_id, r.actor_role, r.command, r.outcome) for r in rows] == [
        ("wx_zhang", "officer", "审计", "ok")]
    await bot.say("张警官", "/审计 5")
    assert "/审计" in bot.take()[-1].out.text


async def test_unknown_command_gets_a_hint_but_hashtag_chatter_does_not(bot):
    await bot.say("王阿姨", "/天气", room="幸福里居民群")
    assert "没有“天气”这个命令" in bot.take()[0].out.text
    await bot.say("王阿姨", "#今日打卡 走了一万步", room="幸福里居民群")
    assert bot.take() == []


async def test_ordinary_chatter_gets_no_reply_but_is_counted(bot):
    for i, text in enumerate(["早上好", "今天天气真好", "吃了吗"]):
        await bot.say("王阿姨" if i % 2 else "陈大爷", text, room="幸福里居民群")
    assert bot.take() == []
    async with bot.app.sessions() as s:
        assert await counters.total(s, "xingfuli", "messages", room_id=bot.room_id("幸福里居民群")) == 3


async def test_same_message_id_is_handled_once(bot):
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="dup-1")
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="dup-1")
    assert len(bot.take()) == 1
    # ... even after a restart, when the in-memory memory of ids is gone.
    await bot.restart()
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="dup-1")
    assert bot.take() == []


async def test_same_text_again_within_ten_seconds_is_a_redelivery(bot):
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="a")
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="b")  # new id, same text, same second
    assert len(bot.take()) == 1
    await bot.advance(timedelta(seconds=30))
    await bot.say("王阿姨", "/帮助", room="幸福里居民群", message_id="c")
    assert len(bot.take()) == 1


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07\x1b[31m", "😀😀🙏", "a" * 100_000, "你好" * 50_000,
                                  "/", "＃", "/帮助\x00"])
async def test_odd_text_never_crashes_the_router(bot, text):
    await bot.say("王阿姨", text, room="幸福里居民群")
    await bot.say("王阿姨", text)
    await bot.say("王阿姨", "/帮助", room="幸福里居民群")  # the bot still answers afterwards
    assert "警务室" in bot.take()[-1].out.text


@pytest.mark.parametrize("kind", [MessageKind.IMAGE, MessageKind.FILE, MessageKind.LINK,
                                  MessageKind.MINI_PROGRAM, MessageKind.RECALL, MessageKind.VOICE])
async def test_non_text_messages_are_counted_and_ignored(bot, kind):
    await bot.say("王阿姨", "", room="幸福里居民群", kind=kind)
    assert bot.take() == []
    await bot.say("王阿姨", "[图片]", kind=kind)  # privately: never silence (a recall is no message)
    replies = bot.texts_to("王阿姨", bot.take())
    assert replies == ([] if kind == MessageKind.RECALL else [replies[0]])
    assert kind == MessageKind.RECALL or "只看得懂文字" in replies[0]
    async with bot.app.sessions() as s:
        assert await counters.total(s, "xingfuli", f"messages_{kind.value}") == 2


async def test_unknown_room_is_registered_uncategorised(bot):
    from bot.messages import IncomingMessage

    await bot.transport.deliver(IncomingMessage(
        id="n1", sender_id="wx_x", sender_name="路人", text="大家好", at=bot.clock.now(),
        room_id="room_new", room_name="新来的群"))
    await bot.settle()
    group = bot.app.directory.group("room_new")
    assert (group.name, group.category) == ("新来的群", None)
    await bot.restart()
    assert bot.app.directory.group("room_new").name == "新来的群"


async def test_mention_the_bot_does_not_understand_gets_the_menu(bot):
    await bot.say("陈大爷", "@警民群助手 那个啥", room="幸福里居民群", mention=True)
    [reply] = bot.take()
    assert "可以帮您" in reply.out.text


async def test_processed_ids_of_chatter_survive_restart(db_url):
    harness = Harness(make_config(db_url))
    async with harness:
        await harness.say("王阿姨", "早", room="幸福里居民群", message_id="x1")
        async with harness.app.sessions() as s:
            n = (await s.execute(select(func.count()).select_from(ProcessedMessage))).scalar_one()
        assert n == 1


async def test_a_redelivery_older_than_the_remembered_ids_is_still_answered_once(bot):
    # The router keeps two days of ids in memory; a gateway replaying an older message is caught
    # by the id stored with the answer, and what the handler did the second time is rolled back.
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", message_id="old-1")
    assert len(bot.take()) == 1
    bot.app.router.recent = type(bot.app.router.recent)()  # as if the id had aged out
    await bot.advance(timedelta(minutes=1))  # past the same-text window: only the id can tell
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群", message_id="old-1")
    assert bot.take() == []
    async with bot.app.sessions() as s:
        assert await counters.total(s, "xingfuli", "consultations") == 1


async def test_a_message_a_handler_only_looked_at_is_still_known_after_a_restart(bot, monkeypatch):
    # A question about the weather in a group without @ is no police business: the guide
    # looks at it and leaves it; its id must still be remembered, or a redelivery after a restart
    # would be looked at again as new. (The reading is fixed: this is about the router.)
    from handlers.intents import Classification

    real = bot.app.classify
    monkeypatch.setattr(bot.app, "classify",
                        lambda text: Classification("consultation", 0.45) if text == "明天会不会下雨啊" else real(text))
    await bot.say("王阿姨", "明天会不会下雨啊", room="幸福里居民群", message_id="look-1")
    assert bot.take() == []
    await bot.restart()
    async with bot.app.sessions() as s:
        ids = (await s.execute(select(ProcessedMessage.id))).scalars().all()
    assert "look-1" in ids


async def test_a_renamed_group_stays_the_same_group_under_its_new_name(bot):
    await bot.say("王阿姨", "早上好", room="幸福里居民群")
    await bot.rename("幸福里居民群", "幸福里邻里一家亲")
    group = bot.app.directory.group(bot.room_id("幸福里居民群"))
    assert (group.name, group.category) == ("幸福里邻里一家亲", "resident")
    await bot.say("张警官", "/群", room="幸福里警务工作群")
    listing = bot.take()[-1].out.text
    assert "幸福里邻里一家亲" in listing and "幸福里居民群" not in listing
    await bot.restart()
    assert bot.app.directory.group(bot.room_id("幸福里居民群")).name == "幸福里邻里一家亲"


async def test_the_group_list_says_when_each_group_last_spoke_and_a_restart_keeps_it(bot):
    """/群 tells an officer which groups are quiet: a group that spoke at 09:30 says so at once,
    and still says so after a restart."""
    bot.clock.set(bot.clock.now().replace(hour=9, minute=30))
    await bot.say("王阿姨", "早上好", room="幸福里居民群")
    for attempt in ("at once", "after a restart"):
        if attempt == "after a restart":
            await bot.restart()
        await bot.say("张警官", "/群", room="幸福里警务工作群")
        lines = bot.take()[-1].out.text.splitlines()
        [residents] = [line for line in lines if line.startswith("· 幸福里居民群")]
        assert residents.endswith("09:30"), (attempt, residents)
