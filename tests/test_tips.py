"""Tip reports (线索举报), as conversations: resident reports in private, officers follow up."""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from bot.clock import SHANGHAI
from bot.harness import Harness
from bot.logs import MaskingJsonFormatter
from bot.messages import MessageKind
from storage.models import AuditEntry, Counter, DialogState, OutboxMessage
from storage.tips import Tip, TipAttachment
from tests.conftest import make_config, sample_raw

REPORTER = "小马"
REPORTER_ID = "wxid_reporter7q"  # ASCII, so it would show even inside JSON-escaped columns
WORK = "幸福里警务工作群"
MONDAY_0900 = datetime(2026, 12, 14, 9, 0, tzinfo=SHANGHAI)  # the weekly report after the harness's first week


def tips_config(db_url, **tip_settings):
    groups = sample_raw()["groups"] + [{"name": "禁毒大队工作群", "category": "work"}]
    tips = {"daily_limit": 5, "attachment_max_kb": 4, "overdue_hours": 48,
            "routes": {"诈骗/经济犯罪": {"unit": "经侦/反诈"}, "毒品": {"unit": "禁毒", "room": "禁毒大队工作群"},
                       "食品药品": {"unit": "食药"}, "治安/盗窃": {"unit": "治安"}, "其他": {"unit": "社区民警"}}}
    tips.update(tip_settings)
    return make_config(db_url, groups=groups, tips=tips)


@pytest.fixture
async def bot(db_url, tmp_path, monkeypatch):
    # Decrypted attachments go to a folder of this test's own (the real one is shared by the machine).
    monkeypatch.setattr("handlers.tips.attachments.ATTACHMENT_DIR", tmp_path / "tip-files")
    harness = Harness(tips_config(db_url))
    harness.names[REPORTER] = REPORTER_ID
    await harness.start()
    yield harness
    await harness.stop()


async def report(bot, who=REPORTER, category="2", body="5号楼地下室晚上经常有人聚在一起吸毒，电话13812345678的人在卖",
                 when="跳过", confidential="保密") -> str:
    """Walk the whole dialog; return the receipt the reporter was shown."""
    for said in ("举报", category, body, when, confidential, "确认"):
        await bot.say(who, said)
    last = bot.texts_to(who)[-1]
    found = re.search(r"查询码：([\d ]+)", last)
    assert found, last
    return found.group(1).replace(" ", "")


def _as_text(cell) -> str:
    if isinstance(cell, memoryview):
        cell = bytes(cell)
    return cell.decode("latin-1") if isinstance(cell, bytes) else str(cell)


async def dump(bot) -> str:
    """Every row of every table, every column, as text."""
    out = []
    async with bot.app.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table}"'))).all():
                out += [_as_text(cell) for cell in row]
    return "\n".join(out)


# ---- the dialog ------------------------------------------------------------------------------

async def test_full_dialog_gives_a_receipt_and_notifies_the_officer(bot):
    await bot.say(REPORTER, "我要举报")
    assert "1. 诈骗/经济犯罪" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "2")
    assert "发生了什么" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "5号楼地下室晚上经常有人吸毒，卖货的人电话13812345678")
    assert "跳过" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "跳过")
    ask = bot.texts_to(REPORTER)[-1]
    assert "保密" in ask and "不叫匿名" in ask
    await bot.say(REPORTER, "保密")
    summary = bot.texts_to(REPORTER)[-1]
    assert "类别：毒品" in summary and "时间地点：未填写" in summary and "身份：保密" in summary
    bot.take()
    await bot.say(REPORTER, "确认")
    sent = bot.take()
    [receipt_text] = bot.texts_to(REPORTER, sent)
    receipt = re.search(r"查询码：([\d ]+)", receipt_text).group(1).replace(" ", "")
    assert len(receipt) >= 16 and "保存" in receipt_text
    [notice] = bot.texts_to("张警官", sent)
    assert "#1" in notice and "毒品" in notice and "138****5678" in notice and "13812345678" not in notice
    assert "报告人要求保密" in notice and REPORTER not in notice
    summary_line = re.search(r"摘要：(.*)", notice).group(1)
    assert len(summary_line) <= 41
    async with bot.app.sessions() as s:
        tip = (await s.execute(select(Tip))).scalar_one()
        assert receipt not in (tip.receipt_hash, tip.body_enc) and tip.receipt_hash == bot.app.vault.keyed_hash(receipt)
        assert (await s.execute(select(Counter.value).where(
            Counter.metric == "tips", Counter.key == "毒品", Counter.hour == -1))).scalar_one() == 1


async def test_what_happened_told_in_a_crimes_words_is_the_answer_not_an_alarm(bot):
    """Inside the dialog only a call for help preempts it ("救命", "快来"): the story of a theft
    is what the dialog asked for."""
    await bot.say(REPORTER, "我要举报")
    await bot.say(REPORTER, "4")
    assert "发生了什么" in bot.texts_to(REPORTER)[-1]
    bot.take()
    await bot.say(REPORTER, "老有人撬电动车")
    sent = bot.take()
    assert "跳过" in bot.texts_to(REPORTER, sent)[-1]
    assert not bot.texts_to("张警官", sent) and "110" not in "".join(bot.texts_to(REPORTER, sent))


async def test_back_cancel_and_restart_follow_the_dialog_rules(bot):
    await bot.say(REPORTER, "线索")
    await bot.say(REPORTER, "诈骗")
    await bot.say(REPORTER, "返回")
    assert "1. 诈骗/经济犯罪" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "4")
    await bot.restart()
    await bot.say(REPORTER, "车棚里的电动车电瓶老是被偷")
    assert "什么时候" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "取消")
    assert "已取消" in bot.texts_to(REPORTER)[-1]
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Tip))).scalar_one() == 0
    assert REPORTER_ID not in await dump(bot)  # even the core's 已取消 went out as a tip message


async def test_an_abandoned_dialog_times_out_and_drops_its_attachments(bot):
    await bot.say(REPORTER, "举报")
    await bot.say(REPORTER, "1")
    await bot.say(REPORTER, "a.jpg", kind=MessageKind.IMAGE, attachment=b"img" * 10)
    await bot.advance(timedelta(minutes=31))  # the timeout fires by itself and says so
    assert "30分钟没有回复" in bot.texts_to(REPORTER)[-1] and "重新发“举报”" in bot.texts_to(REPORTER)[-1]
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(TipAttachment))).scalar_one() == 0
    assert REPORTER_ID not in await dump(bot)  # the timeout note, too, forgot whom it went to
    await bot.say(REPORTER, "你好")
    assert "可以帮您" in bot.texts_to(REPORTER)[-1]  # then "你好" is answered with the menu


async def test_unclear_answers_are_asked_again(bot):
    await bot.say(REPORTER, "举报")
    await bot.say(REPORTER, "9")
    assert "1 到 5" in bot.texts_to(REPORTER)[-1]  # one short line, not the list again
    await bot.say(REPORTER, "5")
    await bot.say(REPORTER, "有人冒充物业收费")
    await bot.say(REPORTER, "昨天下午，3号楼门口")
    await bot.say(REPORTER, "随便")
    assert bot.texts_to(REPORTER)[-1] == "请回复“保密”或“不用”。"
    await bot.say(REPORTER, "不用")
    assert "时间地点：昨天下午，3号楼门口" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "嗯？")  # a question, not a yes
    assert "确认" in bot.texts_to(REPORTER)[-1] and "查询码" not in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "嗯嗯")
    assert "查询码" in bot.texts_to(REPORTER)[-1]


# ---- in a group --------------------------------------------------------------------------------

async def test_group_tip_is_redirected_to_private_without_repeating_or_storing_it(bot):
    secret = "我要举报5号楼502吸毒"
    bot.take()
    await bot.say("王阿姨", secret, room="幸福里居民群")
    sent = bot.take()
    [nudge] = sent
    assert nudge.out.room_id == bot.room_id("幸福里居民群") and nudge.out.mention_ids == ()
    assert "私聊" in nudge.out.text and "502" not in nudge.out.text and "吸毒" not in nudge.out.text
    assert "5号楼502吸毒" not in await dump(bot)
    async with bot.app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Tip))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(DialogState))).scalar_one() == 0


async def test_the_classifier_tip_intent_also_redirects_in_a_group(db_url):
    from bot.app import App
    from bot.plugin import Plugin
    from bot.plugins import load_all
    from handlers.intents import Classification

    reader = Plugin("tip_reader")  # stands in for the classifier plugin: this text reads as a tip
    reader.classifies(lambda t: Classification("tip" if "可疑" in t else "other", 0.9))
    plugins = [p for p in load_all() if p.classifier is None] + [reader]
    harness = Harness(tips_config(db_url), app_factory=lambda **kw: App(plugins=plugins, **kw))
    async with harness:
        await harness.say("陈大爷", "楼下那家人天天半夜有可疑的人进出", room="幸福里居民群")
        [nudge] = harness.take()
        assert "私聊" in nudge.out.text and "可疑" not in nudge.out.text


async def test_in_a_group_an_officers_warning_and_a_doubtful_tip_get_no_nudge(db_url):
    from bot.app import App
    from bot.plugin import Plugin
    from bot.plugins import load_all
    from handlers.intents import Classification

    reader = Plugin("tip_reader")  # stands in for the classifier: how sure it is, is the point here
    reader.classifies(lambda t: Classification("tip", 0.9 if "可疑" in t else 0.5) if "楼" in t
                      else Classification("other", 0.9))
    plugins = [p for p in load_all() if p.classifier is None] + [reader]
    harness = Harness(tips_config(db_url), app_factory=lambda **kw: App(plugins=plugins, **kw))
    async with harness:
        await harness.say("张警官", "最近3号楼有可疑的人挨家敲门推销，大家注意", room="幸福里居民群")
        await harness.say("陈大爷", "我们楼有三十户人家", room="幸福里居民群")
        assert harness.take() == []
        await harness.say("陈大爷", "楼下那家人天天半夜有可疑的人进出", room="幸福里居民群")
        [nudge] = harness.take()
        assert "私聊" in nudge.out.text


async def test_ordinary_chatter_mentioning_tips_in_passing_is_left_alone(bot):
    bot.take()
    await bot.say("王阿姨", "上次社区讲座说遇到电信诈骗可以打96110反映，大家记一下", room="幸福里居民群")
    assert bot.take() == []


# ---- routing -----------------------------------------------------------------------------------

async def test_routing_follows_the_category(bot):
    bot.take()
    await report(bot, category="2")
    sent = bot.take()
    [group_notice] = bot.texts_to("禁毒大队工作群", sent)
    assert "禁毒" in group_notice and "#1" in group_notice
    assert "地下室" not in group_notice and "1381" not in group_notice  # never what the tip says
    assert any("#1" in t for t in bot.texts_to("张警官", sent))
    assert bot.texts_to("幸福里居民群", sent) == [] and bot.texts_to("幸福里警务工作群", sent) == []
    await report(bot, category="1", body="有人在小区里推销高息理财，说保本年化20%")
    sent = bot.take()
    assert bot.texts_to("禁毒大队工作群", sent) == []
    [notice] = bot.texts_to("张警官", sent)
    assert "#2【诈骗/经济犯罪】→ 经侦/反诈" in notice
    assert bot.texts_to("小刘", sent) == []  # staff see tips by /线索, officers are told


# ---- confidentiality ----------------------------------------------------------------------------

async def test_confidential_tip_leaves_no_trace_of_the_reporter(bot):
    log_stream = io.StringIO()
    handler = logging.StreamHandler(log_stream)
    handler.setFormatter(MaskingJsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        receipt = await report(bot)
        await bot.say("张警官", "/线索 查看 1")
        view = bot.texts_to("张警官")[-1]
        assert "报告人：保密" in view and "13812345678" in view
        assert REPORTER not in view and REPORTER_ID not in view
        await bot.say("张警官", "/线索 回复 1 收到，我们会安排蹲守，谢谢您")
        await bot.say(REPORTER, f"查询 {receipt}")
        await bot.say("张警官", "/线索 结案 1 已查处")
        await bot.advance(timedelta(minutes=5))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    everything = await dump(bot)
    assert REPORTER_ID not in everything and REPORTER not in everything
    assert receipt not in everything
    assert "13812345678" not in everything  # the full text is encrypted at rest; summaries are masked
    assert REPORTER_ID not in log_stream.getvalue()
    async with bot.app.sessions() as s:
        views = (await s.execute(select(AuditEntry).where(AuditEntry.command == "线索查看"))).scalars().all()
        assert [(v.actor_id, v.args) for v in views] == [("wx_zhang", "#1")]
        tip_rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.source == "tip"))).scalars().all()
        assert tip_rows and all(r.contact_id is None and r.body == "" for r in tip_rows)


async def test_each_subcommand_is_audited_under_its_own_name(bot):
    await report(bot)
    await bot.say("张警官", "/线索 查看 1")
    await bot.say("张警官", "/线索 回复 1 收到")
    await bot.say("小刘", "/线索 结案 #1 已查处")
    async with bot.app.sessions() as s:
        rows = (await s.execute(select(AuditEntry.command, AuditEntry.actor_id, AuditEntry.args, AuditEntry.outcome)
                                .where(AuditEntry.command.like("线索 %")).order_by(AuditEntry.id))).all()
    assert rows == [("线索 查看", "wx_zhang", "1", "ok"), ("线索 回复", "wx_zhang", "1 收到", "ok"),
                    ("线索 结案", "wx_liu", "#1 已查处", "ok")]


async def test_a_subcommand_written_wrong_gets_its_usage_line(bot):
    await report(bot)
    for said, expected in (("/线索 查看 一", "用法：/线索 查看 N"), ("/线索 回复 1", "用法：/线索 回复 N 文字"),
                           ("/线索 结案", "用法：/线索 结案 N 结果")):
        await bot.say("张警官", said)
        assert bot.texts_to("张警官")[-1] == expected, said
    await bot.say("张警官", "/线索 删除 1")  # no such verb: every form of the command
    assert bot.texts_to("张警官")[-1] == ("用法：/线索\n/线索 查看 N\n/线索 附件 N\n/线索 回复 N 文字\n"
                                          "/线索 结案 N 结果")
    async with bot.app.sessions() as s:
        tip = (await s.execute(select(Tip))).scalar_one()
        assert tip.status == "open" and tip.first_reply_at is None


async def test_a_tip_that_is_not_confidential_shows_the_reporter_to_officers(bot):
    await report(bot, who="王阿姨", confidential="不用")
    await bot.say("张警官", "/线索 查看 1")
    assert "报告人：王阿姨" in bot.texts_to("张警官")[-1]


# ---- follow-up ----------------------------------------------------------------------------------

async def test_reply_and_close_reach_the_reporter_and_show_on_lookup(bot):
    receipt = await report(bot)
    bot.take()
    await bot.say("张警官", "/线索 回复 1 已收到，正在核实")
    sent = bot.take()
    assert "转给线索 #1" in bot.texts_to("张警官", sent)[-1]
    assert bot.texts_to(REPORTER, sent) == ["关于您反映的线索 #1，民警回复：已收到，正在核实"]
    await bot.say("张警官", "/线索 结案 1 已依法处理")
    sent = bot.take()
    assert "已处理完毕：已依法处理" in bot.texts_to(REPORTER, sent)[0]
    await bot.say("张警官", "/线索")
    assert "没有待处理" in bot.texts_to("张警官")[-1]
    await bot.say(REPORTER, f"查询 {receipt[:8]} {receipt[8:]}")
    answer = bot.texts_to(REPORTER)[-1]
    assert "已结案" in answer and "已收到，正在核实" in answer and "已依法处理" in answer


@pytest.mark.parametrize("pasted", ["查询 {receipt}", "大家帮我看看这个码 {spaced} 是干嘛的"])
async def test_a_receipt_seen_in_a_group_is_revoked_and_the_reporter_gets_a_new_one(bot, pasted):
    receipt = await report(bot, who="王阿姨")
    await bot.say("张警官", "/线索 回复 1 谢谢，已派人查看")
    bot.take()
    spaced = " ".join(receipt[i:i + 4] for i in range(0, 16, 4))
    await bot.say("陈大爷", pasted.format(receipt=receipt, spaced=spaced), room="幸福里居民群")
    sent = bot.take()
    assert bot.texts_to("幸福里居民群", sent) == ["请勿在群里发查询码，已作废。"]
    [renewed] = bot.texts_to("王阿姨", sent)
    new = re.search(r"新的查询码：([\d ]+)", renewed).group(1).replace(" ", "")
    assert new != receipt and "线索 #1" in renewed and "作废" in renewed
    [told] = bot.texts_to("张警官", sent)
    assert told == "线索 #1 的查询码被人发到了“幸福里居民群”，已经作废，并已私聊给报告人发了新的查询码。"
    assert "陈大爷" not in told and "王阿姨" not in told
    assert bot.texts_to("陈大爷", sent) == []
    await bot.say("陈大爷", f"查询 {receipt}")
    assert "没有找到" in bot.texts_to("陈大爷")[-1]
    await bot.say("王阿姨", f"查询 {new}")
    assert "谢谢，已派人查看" in bot.texts_to("王阿姨")[-1]
    assert all(receipt not in t and new not in t.replace(" ", "") for t in bot.texts_to("幸福里居民群"))


async def test_sixteen_digits_that_are_no_receipt_are_left_alone_in_a_group(bot):
    await report(bot, who="王阿姨")
    bot.take()
    await bot.say("陈大爷", "我的卡号 6222 0212 3456 7890 对不对", room="幸福里居民群")
    assert "作废" not in " ".join(bot.texts_to("幸福里居民群", bot.take()))


async def test_receipt_lookup_works_from_another_account(bot):
    receipt = await report(bot)
    await bot.say("陈大爷", f"查询{receipt}")
    assert "线索 #1" in bot.texts_to("陈大爷")[-1]
    await bot.say("陈大爷", "查询 1234567812345678")
    assert "没有找到" in bot.texts_to("陈大爷")[-1]


async def test_open_tips_are_listed_oldest_first_with_overdue_marked(bot):
    await report(bot, category="1", body="有人冒充公检法打电话")
    await bot.advance(timedelta(hours=30))
    await report(bot, who="王阿姨", category="3", body="菜市场有人卖过期的奶粉")
    await bot.advance(timedelta(hours=20))
    await bot.say("小刘", "/线索")
    listing = bot.texts_to("小刘")[-1].splitlines()
    assert listing[1].startswith("#1【诈骗/经济犯罪】") and "已超48小时未回复" in listing[1]
    assert listing[2].startswith("#2【食品药品】") and "已超" not in listing[2]
    async with bot.app.sessions() as s:
        from handlers.stats.report import Period

        week = Period(bot.clock.now().date(), bot.clock.now().date())
        assert await bot.app.report_lines(s, week) == ["待处理线索2条，其中超期1条（超过48小时未回复）"]


async def test_the_weekly_report_counts_open_tips_and_says_nothing_of_them(bot):
    body = "3号楼502每天半夜有陌生人搬运可疑包裹，电话13812345678"
    await report(bot, category="1", body=body, when="上周三晚上十点，3号楼后门")
    bot.take()
    await bot.run_until(MONDAY_0900 + timedelta(minutes=5))
    [weekly] = [t for t in bot.texts_to(WORK) if "周报】12月7日至12月13日" in t]  # not the one of 12-07 09:00
    assert "待处理线索1条，其中超期1条（超过48小时未回复）" in weekly
    # Neither what was reported, nor where, nor its category ("诈骗" alone is the report's own word), nor who.
    for told in ("3号楼", "502", "包裹", "138", "5678", "后门", "经济犯罪", REPORTER):
        assert told not in weekly, told


async def test_officer_commands_stay_out_of_groups(bot):
    await report(bot)
    bot.take()
    await bot.say("张警官", "/线索 查看 1", room="幸福里警务工作群")
    [answer] = bot.take()
    assert "私聊" in answer.out.text and "吸毒" not in answer.out.text


# ---- abuse and permissions -----------------------------------------------------------------------

async def test_at_most_five_tips_a_day(bot):
    for i in range(5):
        await report(bot, body=f"第{i + 1}件事：有人在楼道里吸毒")
    await bot.say(REPORTER, "举报")
    assert "今天已经提交了5条线索" in bot.texts_to(REPORTER)[-1]
    await bot.advance(timedelta(days=1))
    await report(bot)


async def test_attachments_are_kept_and_oversized_ones_refused(bot):
    await bot.say(REPORTER, "举报")
    await bot.say(REPORTER, "1")
    await bot.say(REPORTER, "photo.jpg", kind=MessageKind.IMAGE, attachment=b"x" * 10_000)
    refusal = bot.texts_to(REPORTER)[-2]
    assert "10KB" in refusal and "4KB" in refusal
    await bot.say(REPORTER, "small.jpg", kind=MessageKind.IMAGE, attachment=b"\x89PNG" * 100)
    assert "已收到1个附件" in bot.texts_to(REPORTER)[-1]
    for said in ("这是骗子发来的收款码", "跳过", "保密"):
        await bot.say(REPORTER, said)
    assert "附件：1个" in bot.texts_to(REPORTER)[-1]
    await bot.say(REPORTER, "确认")
    async with bot.app.sessions() as s:
        [att] = (await s.execute(select(TipAttachment))).scalars().all()
        assert att.tip_id == 1 and att.size == 400 and b"PNG" not in att.data_enc


PHOTO = b"\x89PNG\r\n" + bytes(range(200))  # bytes a careless text decode would mangle
RECEIPT_PDF = b"%PDF-1.4 transfer 5000 yuan"


async def report_with_attachments(bot) -> None:
    await bot.say(REPORTER, "举报")
    await bot.say(REPORTER, "1")
    await bot.say(REPORTER, "photo.jpg", kind=MessageKind.IMAGE, attachment=PHOTO)
    await bot.say(REPORTER, "小马的转账记录.PDF", kind=MessageKind.FILE, attachment=RECEIPT_PDF,
                  attachment_name="小马的转账记录.PDF")
    for said in ("有人冒充客服让我转账", "跳过", "保密", "确认"):
        await bot.say(REPORTER, said)


def files_left(bot) -> list:
    from handlers.tips import attachments

    return [p for p in attachments.ATTACHMENT_DIR.rglob("*") if p.is_file()]


async def test_the_officer_receives_a_tips_attachments_in_private(bot):
    await report_with_attachments(bot)
    await bot.say("张警官", "/线索 查看 1")
    assert "附件：2个（接收请发 /线索 附件 1）" in bot.texts_to("张警官")[-1]
    bot.take()

    await bot.say("张警官", "/线索 附件 1")
    sent = bot.take()
    assert all(r.out.room_id is None and r.out.contact_id == "wx_zhang" for r in sent)  # no group, no reporter
    note, photo, pdf = sent
    assert note.out.text == "线索 #1 的2个附件马上私聊发给您，请勿转发到群里。"
    assert (photo.out.kind, photo.data) == ("image", PHOTO)
    assert (pdf.out.kind, pdf.data) == ("file", RECEIPT_PDF)
    # What the officer sees as the file names: the tip's number, never the reporter's own file name.
    assert [Path(r.out.text).name for r in (photo, pdf)] == ["线索1-附件1.jpg", "线索1-附件2.pdf"]

    assert files_left(bot) == []  # the decrypted copies are gone once sent
    assert REPORTER_ID not in await dump(bot)
    async with bot.app.sessions() as s:
        files = (await s.execute(select(OutboxMessage).where(OutboxMessage.kind != "text"))).scalars().all()
        assert files and all(r.contact_id is None and r.body == "" for r in files)
        audit = (await s.execute(select(AuditEntry.actor_id, AuditEntry.args, AuditEntry.outcome)
                                 .where(AuditEntry.command == "线索附件"))).all()
        assert audit == [("wx_zhang", "#1", "sent 2 of 2 attachments")]


async def test_asking_for_attachments_that_are_not_there_gets_a_clear_answer(bot):
    await report(bot)
    await bot.say("张警官", "/线索 查看 1")
    assert "附件：0个" in bot.texts_to("张警官")[-1] and "/线索 附件" not in bot.texts_to("张警官")[-1]
    for said, expected in (("/线索 附件 1", "线索 #1 没有附件。"), ("/线索 附件 8", "没有编号为 #8 的线索。"),
                           ("/线索 附件", "用法：")):
        await bot.say("小刘", said)
        assert bot.texts_to("小刘")[-1].startswith(expected), said
    await bot.say("张警官", "/线索 附件 1", room="幸福里警务工作群")
    assert "私聊" in bot.texts_to("幸福里警务工作群")[-1]
    await bot.say(REPORTER, "/线索 附件 1")
    assert "只有" in bot.texts_to(REPORTER)[-1]
    assert all(r.out.kind == "text" for r in bot.sent)


async def test_an_attachment_that_cannot_be_decrypted_is_reported_not_sent(bot):
    await report_with_attachments(bot)
    async with bot.app.sessions.begin() as s:
        first = (await s.execute(select(TipAttachment).order_by(TipAttachment.id))).scalars().first()
        first.data_enc = b"damaged"
    bot.take()
    await bot.say("张警官", "/线索 附件 1")
    sent = bot.take()
    assert [r.out.text for r in sent if r.out.kind == "text"] == [
        "线索 #1 有1个附件无法解密（密钥可能换过），没能发出。", "线索 #1 的1个附件马上私聊发给您，请勿转发到群里。"]
    assert [r.data for r in sent if r.out.kind != "text"] == [RECEIPT_PDF]


async def test_decrypted_files_left_behind_by_a_crash_are_deleted_at_start(bot):
    from handlers.tips import attachments

    leftover = attachments.ATTACHMENT_DIR / bot.app.name / "tmpcrash" / "线索1-附件1.jpg"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(PHOTO)
    await bot.restart()
    assert not leftover.exists() and not leftover.parent.exists()


async def test_a_resident_cannot_run_the_officer_command(bot):
    await report(bot)
    await bot.say(REPORTER, "/线索 查看 1")
    answer = bot.texts_to(REPORTER)[-1]
    assert "只有" in answer and "吸毒" not in answer


# ---- the outbox forgets tip recipients, whatever happens to the message ----------------------------

async def test_a_reply_that_cannot_be_delivered_still_forgets_the_reporter(bot):
    await report(bot)
    bot.transport.failures_to_inject = 1000  # WeChat refuses everything for a while
    await bot.say("张警官", "/线索 回复 1 请问具体是几号楼？")
    await bot.advance(timedelta(hours=1))
    async with bot.app.sessions() as s:
        [failed] = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.status == "failed", OutboxMessage.source == "tip"))).scalars().all()
        assert failed.contact_id is None and failed.body == ""
    assert REPORTER_ID not in await dump(bot)


async def test_rows_left_uncertain_by_a_crash_are_cleared_at_start(bot):
    from datetime import datetime, timezone

    async with bot.app.sessions.begin() as s:
        now = datetime.now(timezone.utc)
        s.add(OutboxMessage(bot=bot.app.name, contact_id=REPORTER_ID, body="关于您反映的线索", status="uncertain",
                            source="tip", not_before=now, created_at=now, mention_ids=[]))
    await bot.restart()
    assert REPORTER_ID not in await dump(bot)
