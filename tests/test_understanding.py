"""Residents in plain Chinese: the guide, consultations, suggestions, disputes, emergencies, scams,
and the bot staying quiet when nobody needs it. Every test is a conversation on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.outbox import EMERGENCY
from storage.counters import WHOLE_DAY
from storage.models import AuditEntry, Counter, OutboxMessage
from storage.understanding import Consultation, DisputeRecord, Suggestion

RESIDENTS = "幸福里居民群"
WORK = "幸福里警务工作群"
BUILDING = "幸福里3号楼群"


async def counts(bot, metric: str) -> dict[str, int]:
    async with bot.app.sessions() as session:
        rows = await session.execute(
            select(Counter.key, func.sum(Counter.value)).where(Counter.metric == metric, Counter.hour == WHOLE_DAY)
            .group_by(Counter.key))
        return {key: int(n) for key, n in rows}


async def rows(bot, model):
    async with bot.app.sessions() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


def mentions(record) -> tuple[str, ...]:
    return record.out.mention_ids


# ---- service guide and consultations ---------------------------------------------------------

async def test_guide_answers_in_the_group_and_ats_the_asker(bot):
    await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room=RESIDENTS)
    sent = bot.take()
    [answer] = [r for r in sent if r.out.room_id == bot.room_id(RESIDENTS)]
    assert "租房合同" in answer.out.text
    assert mentions(answer) == (bot.contact_id("王阿姨"),)
    assert not bot.texts_to("张警官", sent)  # answered: nobody bothered
    [row] = await rows(bot, Consultation)
    assert (row.status, row.entry_id, row.asker_id) == ("answered", "residence-permit", "wx_wang")
    assert await counts(bot, "consultations") == {"answered": 1}
    assert await counts(bot, "consultation_topics") == {"residence-permit": 1}


async def test_guide_matches_an_example_question_without_its_keyword(bot):
    await bot.say("陈大爷", "警务室啥时候上班啊", room=RESIDENTS)
    assert "9:00" in bot.texts_to(RESIDENTS, bot.take())[-1]
    assert await counts(bot, "consultation_topics") == {"office-hours": 1}


async def test_unmatched_question_goes_to_the_officer_who_answers_where_it_was_asked(bot):
    await bot.say("王阿姨", "请问在派出所能办结婚登记吗？", room=RESIDENTS)
    sent = bot.take()
    assert "已转给社区民警" in bot.texts_to(RESIDENTS, sent)[-1]
    [notice] = bot.texts_to("张警官", sent)
    assert "结婚登记" in notice and "王阿姨" in notice and "/咨询 回复 1" in notice
    assert not bot.texts_to(WORK, sent)
    assert await counts(bot, "consultations") == {"forwarded": 1}

    await bot.say("小刘", "/咨询", room=WORK)
    listing = bot.texts_to(WORK, bot.take())[-1]
    assert "#1" in listing and "王阿姨" in listing and "幸福里居民群" in listing

    await bot.say("张警官", "/咨询 回复 1 不能，结婚登记请到区民政局婚姻登记处。")
    sent = bot.take()
    [answer] = [r for r in sent if r.out.room_id == bot.room_id(RESIDENTS)]
    assert "婚姻登记处" in answer.out.text and "结婚登记" in answer.out.text
    assert mentions(answer) == (bot.contact_id("王阿姨"),)
    assert "已把答复发给王阿姨" in bot.texts_to("张警官", sent)[-1]
    [row] = await rows(bot, Consultation)
    assert (row.status, row.answered_by) == ("answered", "wx_zhang")

    await bot.say("张警官", "/咨询 回复 1 再说一遍")
    assert "已经回复过了" in bot.texts_to("张警官", bot.take())[-1]
    await bot.say("张警官", "/咨询")
    assert "没有待回复" in bot.texts_to("张警官", bot.take())[-1]


async def test_private_question_is_answered_privately(bot):
    await bot.say("陈大爷", "我想问问退休人员资格认证要去派出所吗")
    assert "已转给社区民警" in bot.texts_to("陈大爷", bot.take())[-1]
    await bot.say("张警官", "/咨询 回复 1 请带老人户口本和子女房产证来警务室")
    assert "请带老人户口本" in bot.texts_to("陈大爷", bot.take())[-1]


async def test_residents_cannot_list_or_answer_consultations(bot):
    await bot.say("王阿姨", "请问在派出所能办结婚登记吗？", room=RESIDENTS)
    bot.take()
    await bot.say("陈大爷", "/咨询 回复 1 不用")
    sent = bot.take()
    assert "只有" in bot.texts_to("陈大爷", sent)[-1]
    assert not bot.texts_to(RESIDENTS, sent)
    assert (await rows(bot, Consultation))[0].status == "open"


async def test_bad_answer_commands_explain_themselves(bot):
    await bot.say("张警官", "/咨询 回复 9 好的")
    assert "没有编号为 9" in bot.texts_to("张警官", bot.take())[-1]
    await bot.say("张警官", "/咨询 回复")
    assert "/咨询 回复 编号" in bot.texts_to("张警官", bot.take())[-1]


async def test_neighbours_asking_each_other_is_not_a_consultation(bot):
    await bot.say("小周", "请问谁家丢了钥匙？", room=RESIDENTS)
    assert bot.take() == []
    assert await rows(bot, Consultation) == []


# ---- suggestions ------------------------------------------------------------------------------

async def test_suggestion_is_thanked_recorded_and_answerable(bot):
    await bot.say("王阿姨", "建议：小区东门晚上太黑了，加个路灯吧，我电话13812345678", room=RESIDENTS)
    sent = bot.take()
    assert "谢谢" in bot.texts_to(RESIDENTS, sent)[-1]
    [row] = await rows(bot, Suggestion)
    assert "13812345678" not in row.text and "138****5678" in row.text
    assert row.text.startswith("小区东门")

    await bot.say("陈大爷", "建议在车棚装个充电桩，电动车老在楼道充电不安全", room=RESIDENTS)
    assert "谢谢" in bot.texts_to(RESIDENTS, bot.take())[-1]
    assert await counts(bot, "suggestions") == {"": 2}

    await bot.say("张警官", "/建议")
    listing = bot.texts_to("张警官", bot.take())[-1]
    assert "#1" in listing and "#2" in listing and "充电桩" in listing

    await bot.say("张警官", "/建议 回复 2 已和物业商量，下月装充电桩。")
    sent = bot.take()
    [answer] = [r for r in sent if r.out.room_id == bot.room_id(RESIDENTS)]
    assert "下月装充电桩" in answer.out.text and mentions(answer) == (bot.contact_id("陈大爷"),)
    assert [r.status for r in await rows(bot, Suggestion)] == ["open", "answered"]


async def test_empty_suggestion_prefix_asks_for_the_content(bot):
    await bot.say("陈大爷", "建议：")
    assert "后面写上您的建议" in bot.texts_to("陈大爷", bot.take())[-1]
    assert await rows(bot, Suggestion) == []


# ---- disputes ----------------------------------------------------------------------------------

async def test_dispute_is_told_to_the_officer_privately_and_registered(bot):
    await bot.say("小周", "楼上天天半夜跺脚，说了也不听，我电话13912345678", room=BUILDING)
    sent = bot.take()
    [notice] = bot.texts_to("张警官", sent)
    assert "矛盾纠纷" in notice and "小周" in notice and "139****5678" in notice
    assert "13912345678" not in notice
    assert not bot.texts_to(WORK, sent)
    assert "告诉社区民警" in bot.texts_to(BUILDING, sent)[-1]
    [row] = await rows(bot, DisputeRecord)
    assert (row.room_id, row.status, row.reporter_id) == (bot.room_id(BUILDING), "open", "wx_zhou")
    assert "139****5678" in row.summary
    assert await counts(bot, "disputes") == {"": 1}


async def test_officer_lists_open_disputes_and_records_how_one_was_resolved(bot):
    await bot.say("小周", "楼上天天半夜跺脚，说了也不听，我电话13912345678", room=BUILDING)
    await bot.advance(timedelta(hours=2))
    await bot.say("陈大爷", "隔壁邻居家的狗天天半夜叫，跟他说了还跟我吵架")
    bot.take()

    await bot.say("张警官", "/纠纷")
    listing = bot.texts_to("张警官", bot.take())[-1].splitlines()
    assert listing[0] == "未化解的矛盾纠纷（共2条）："
    assert listing[1].startswith("#1 12-07 08:00 小周（幸福里3号楼群）：楼上天天半夜跺脚")
    assert "139****5678" in listing[1] and "13912345678" not in listing[1]
    assert listing[2].startswith("#2 12-07 10:00 陈大爷（私聊）：隔壁邻居家的狗")
    assert "/纠纷 化解 编号" in listing[-1]

    await bot.advance(timedelta(days=1))
    asked_at = bot.clock.now()
    await bot.say("张警官", "/纠纷 化解 1 已上门调解，楼上同意晚上十点后注意，有事打13912345678")
    sent = bot.take()
    assert "#1 已登记为化解" in bot.texts_to("张警官", sent)[-1]
    assert [r.out.contact_id for r in sent] == ["wx_zhang"]  # nothing to any group or resident

    await bot.say("小刘", "/纠纷 结案 2 双方已和解")
    assert "#2 已登记为化解" in bot.texts_to("小刘", bot.take())[-1]
    await bot.say("张警官", "/纠纷")
    assert "没有未化解" in bot.texts_to("张警官", bot.take())[-1]

    first, second = await rows(bot, DisputeRecord)
    assert (first.status, first.resolved_by, second.resolved_by) == ("resolved", "wx_zhang", "wx_liu")
    assert timedelta(0) <= first.resolved_at - asked_at < timedelta(seconds=5)
    assert "139****5678" in first.outcome and "13912345678" not in first.outcome
    async with bot.app.sessions() as session:
        audit = (await session.execute(select(AuditEntry.command, AuditEntry.actor_id, AuditEntry.outcome).where(
            AuditEntry.command.in_(("纠纷", "纠纷 化解"))).order_by(AuditEntry.id))).all()
    assert [(actor, outcome) for _, actor, outcome in audit] == [
        ("wx_zhang", "ok"), ("wx_zhang", "resolved #1"), ("wx_liu", "resolved #2"), ("wx_zhang", "ok")]
    assert [command for command, _, _ in audit] == ["纠纷", "纠纷 化解", "纠纷 化解", "纠纷"]  # each verb on its own


async def test_dispute_commands_explain_bad_input_and_stay_with_staff(bot):
    await bot.say("小周", "对门把鞋柜堆在楼道里，说了好几次都不听，吵起来了", room=BUILDING)
    bot.take()
    for said, expected in (("/纠纷 化解", "/纠纷 化解 编号 化解情况"), ("/纠纷 化解 1", "/纠纷 化解 编号 化解情况"),
                           ("/纠纷 删除 1", "/纠纷 化解 编号 化解情况"), ("/纠纷 化解 9 已调解", "没有编号为 9"),
                           ("/纠纷 化解 #1 物业协调搬走了鞋柜", "#1 已登记为化解"),
                           ("/纠纷 化解 1 再说一次", "#1 已经化解登记过了")):
        await bot.say("张警官", said)
        assert expected in bot.texts_to("张警官", bot.take())[-1], said

    await bot.say("张警官", "/纠纷", room=WORK)
    sent = bot.take()
    assert "私聊" in bot.texts_to(WORK, sent)[-1] and "鞋柜" not in bot.texts_to(WORK, sent)[-1]
    await bot.say("小周", "/纠纷")
    answer = bot.texts_to("小周", bot.take())[-1]
    assert "只有" in answer and "鞋柜" not in answer
    [row] = await rows(bot, DisputeRecord)
    assert row.outcome == "物业协调搬走了鞋柜"


# ---- emergencies -------------------------------------------------------------------------------

async def test_fire_gets_119_at_once_and_everyone_is_alerted(bot):
    said_at = bot.clock.now()
    await bot.say("陈大爷", "楼下着火了快来人", room=RESIDENTS)
    sent = bot.take()
    reply = bot.texts_to(RESIDENTS, sent)
    assert len(reply) == 1 and "119" in reply[0] and "110" not in reply[0]
    assert "陈大爷" in bot.texts_to("张警官", sent)[0] and "119" in bot.texts_to("张警官", sent)[0]
    assert "楼下着火了快来人" in bot.texts_to(WORK, sent)[0]
    assert all(r.at - said_at < timedelta(seconds=1) for r in sent)  # no pacing for any of it
    async with bot.app.sessions() as session:
        priorities = set((await session.execute(select(OutboxMessage.priority))).scalars())
    assert priorities == {EMERGENCY}
    assert await counts(bot, "emergencies") == {"119": 1}


async def test_emergency_jumps_ahead_of_a_queue_and_past_the_hourly_cap(bot):
    from bot.messages import Outgoing

    cap = bot.config.outbox.room_hourly_cap
    async with bot.app.sessions.begin() as session:
        for i in range(cap + 5):
            await bot.app.outbox.enqueue(session, Outgoing(bot.room_id(RESIDENTS), None, f"通知{i}"))
    bot.app.outbox.wake()
    await bot.advance(timedelta(minutes=5))  # the cap is reached: the rest wait for the next hour
    said_at = bot.clock.now()
    await bot.say("陈大爷", "我老伴晕倒了叫不醒", room=RESIDENTS, settle=False)
    await bot.settle()
    [reply] = [r for r in bot.sent if "120" in r.out.text and r.out.room_id == bot.room_id(RESIDENTS)]
    assert reply.at - said_at < timedelta(seconds=1)
    assert f"通知{cap + 4}" not in [r.out.text for r in bot.sent]  # still held back by the cap


async def test_emergency_in_private_chat_and_inside_an_unfinished_flow(config):
    from bot.app import App
    from bot.harness import Harness
    from bot.plugin import EVERYONE, END, Plugin

    from bot.plugins import load_all

    extra = Plugin("probe")
    flow = extra.dialog("probe")

    async def ask(ctx, data):
        await ctx.reply("请说您的门牌号")

    @flow.state("house", prompt=ask)
    async def got_house(ctx, data, text):
        await ctx.reply(f"记下了：{text}")
        return END

    @extra.command("登记", roles=EVERYONE)
    async def start(ctx):
        await ctx.start_dialog("probe", "house")

    @extra.phrase("着火")
    async def fire_talk(ctx, match):
        await ctx.reply("phrase swallowed it")
        return True

    harness = Harness(config, app_factory=lambda **kw: App(plugins=[*load_all(), extra], **kw))
    async with harness as bot:
        await bot.say("陈大爷", "/登记")
        await bot.say("陈大爷", "救命 我家厨房着火了")
        sent = bot.take()
        [reply] = bot.texts_to("陈大爷", sent)[-1:]
        assert "119" in reply and "phrase" not in reply
        assert bot.texts_to("张警官", sent) and bot.texts_to(WORK, sent)
        await bot.say("陈大爷", "3号楼201")  # the flow was left as it was
        assert bot.texts_to("陈大爷", bot.take()) == ["记下了：3号楼201"]


async def test_missing_child_points_to_110(bot):
    await bot.say("小周", "孩子在小区广场找不着了，穿红衣服，5岁", room=RESIDENTS)
    sent = bot.take()
    assert "110" in bot.texts_to(RESIDENTS, sent)[0]
    assert await counts(bot, "emergencies") == {"110": 1}


async def test_a_drill_is_not_an_emergency(bot):
    await bot.say("物业李经理", "今天小区搞消防演习，烟挺大的大家别害怕", room=RESIDENTS)
    assert not any("119" in r.out.text for r in bot.take())


# ---- scams -------------------------------------------------------------------------------------

async def test_scam_script_gets_a_warning_and_the_officer_knows_who(bot):
    await bot.say("小周", "兼职刷单日赚300，动动手指就能赚，加微信abc123", room=RESIDENTS)
    sent = bot.take()
    [warning] = [r for r in sent if r.out.room_id == bot.room_id(RESIDENTS)]
    assert "刷单返利" in warning.out.text and "96110" in warning.out.text and "不要转账" in warning.out.text
    assert mentions(warning) == ()
    [notice] = bot.texts_to("张警官", sent)
    assert "小周" in notice and RESIDENTS in notice
    assert await counts(bot, "scam_warnings") == {"刷单返利": 1}

    await bot.say("小周", "兼职刷单日赚500，动动手指，加微信abc123", room=RESIDENTS)
    assert bot.take() == []  # one warning per group and type within the hour


async def test_officer_forwarding_a_scam_example_is_not_warned(bot):
    await bot.say("张警官", "这里是市公安局，你涉嫌洗钱，把钱转到安全账户", room=RESIDENTS)
    assert bot.take() == []
    assert await counts(bot, "scam_warnings") == {}


async def test_scam_sent_privately_warns_only_the_resident(bot):
    await bot.say("陈大爷", "我是你们王总，换了新号，明天到我办公室一趟")
    sent = bot.take()
    assert "冒充领导熟人" in bot.texts_to("陈大爷", sent)[-1]
    assert not bot.texts_to("张警官", sent)


# ---- quiet by default --------------------------------------------------------------------------

async def test_chatter_gets_no_reply(bot):
    for text in ("今天天气真好", "哈哈哈", "晚上吃饺子", "谢谢大家", "收到", "好的好的"):
        await bot.say("小周", text, room=RESIDENTS)
    assert bot.take() == []


async def test_passing_remark_gets_no_reply(bot):
    await bot.say("小周", "我觉得还行", room=RESIDENTS)
    assert bot.take() == []


async def test_an_unclear_mention_gets_the_menu(bot):
    await bot.say("小周", "@警民群助手 在吗", room=RESIDENTS, mention=True)
    [menu] = bot.texts_to(RESIDENTS, bot.take())
    assert "办居住证要带什么" in menu and "建议：" in menu
