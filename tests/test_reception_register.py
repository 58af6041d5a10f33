"""接待服务登记簿 from what residents asked and proposed, and the officer commands of consultations,
suggestions, disputes and groups as declared subcommands (their own audit line, their own /帮助 line)."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime, timedelta

import yaml
from sqlalchemy import select

from bot.cli import main
from bot.clock import SHANGHAI
from bot.harness import Harness
from bot.masking import mask_name as masked_name
from handlers.followup import preview, source_name
from handlers.guide import handling
from storage.models import AuditEntry
from tests.conftest import make_config, sample_raw

RESIDENTS = "幸福里居民群"
WORK = "幸福里警务工作群"
SHOPS = "幸福里沿街商户群"


# ---- what a register row says, without the bot ------------------------------------------------

def test_a_register_names_a_resident_by_the_first_character_only():
    assert masked_name("王阿姨") == "王**"
    assert masked_name("小周") == "小*"
    assert masked_name(None) == "" and masked_name("") == ""


def test_a_register_says_where_it_was_raised():
    assert source_name(None, None) == "私聊"
    assert source_name("room:1", "幸福里居民群") == "幸福里居民群"
    assert source_name("room:1", None) == "群聊"  # a group the bot no longer knows by name


def test_a_short_preview_keeps_the_start_on_one_line():
    assert preview("小区东门\n晚上太黑", 30) == "小区东门 晚上太黑"
    assert preview("一" * 31, 30) == "一" * 30 + "…"


def test_how_a_consultation_was_handled():
    assert handling("answered", "guide") == "自动解答"
    assert handling("open", None) == "已转民警"
    assert handling("answered", "wx_zhang") == "民警已答复"


# ---- the register from a conversation -----------------------------------------------------------

def test_reception_register_has_a_row_for_each_consultation_and_suggestion(db_url, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    async def talk() -> None:
        async with Harness(make_config(db_url)) as bot:  # the clock starts at 2026-12-07 08:00 Beijing
            await bot.say("王阿姨", "请问办理居住证需要带什么材料？", room=RESIDENTS)  # the guide answers (#1)
            await bot.advance(timedelta(minutes=30))
            await bot.say("陈大爷", "我想问问退休人员资格认证要去派出所吗，电话13812345678")  # forwarded (#2)
            await bot.advance(timedelta(minutes=30))
            await bot.say("小周", "请问在派出所能办结婚登记吗？", room=RESIDENTS)  # forwarded, left open (#3)
            await bot.run_until(datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI))
            await bot.say("张警官", "/咨询 回复 2 请带老人户口本和子女房产证来警务室")
            assert "请带老人户口本" in bot.texts_to("陈大爷", bot.take())[-1]
            await bot.advance(timedelta(minutes=30))
            await bot.say("王阿姨", "建议：小区东门晚上太黑了，加个路灯吧，我电话13912345678", room=RESIDENTS)
            await bot.advance(timedelta(minutes=30))
            await bot.say("陈大爷", "建议在车棚装个充电桩，电动车老在楼道充电不安全", room=RESIDENTS)
            await bot.run_until(datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))
            await bot.say("张警官", "/建议 回复 2 已和物业商量，下月装充电桩。")

    asyncio.run(talk())
    out = tmp_path / "registers"
    assert main(["export", "registers", "--from", "2026-12-07", "--to", "2026-12-07", "--out", str(out),
                 "--config", str(path)]) == 0
    with (out / "接待服务登记簿_20261207-20261207.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert "接待服务登记簿: 5 rows" in capsys.readouterr().out
    cells = ("序号", "登记时间", "类别", "来源", "群众", "办理情况", "办结时间", "经办人")
    assert [tuple(r[c] for c in cells) for r in rows] == [
        ("1", "2026-12-07 08:00", "业务咨询", RESIDENTS, "王**", "自动解答", "2026-12-07 08:00", ""),
        ("2", "2026-12-07 08:30", "业务咨询", "私聊", "陈**", "民警已答复", "2026-12-07 10:00", "张警官"),
        ("3", "2026-12-07 09:00", "业务咨询", RESIDENTS, "小*", "已转民警", "", ""),
        ("4", "2026-12-07 10:30", "意见建议", RESIDENTS, "王**", "待回复", "", ""),
        ("5", "2026-12-07 11:00", "意见建议", RESIDENTS, "陈**", "已回复", "2026-12-08 09:00", "张警官"),
    ]
    items = [r["事项"] for r in rows]
    assert items[0] == "居住证"  # the topic of the guide entry that answered it
    assert items[1] == "我想问问退休人员资格认证要去派出所吗，电话138****56…"  # masked, then cut short
    assert items[2] == "请问在派出所能办结婚登记吗？"
    assert items[3] == "小区东门晚上太黑了，加个路灯吧，我电话139****5678"
    assert items[4] == "建议在车棚装个充电桩，电动车老在楼道充电不安全"


# ---- subcommands: audited on their own, listed in /帮助 ---------------------------------------------

async def test_an_answer_is_audited_as_its_own_subcommand(bot):
    await bot.say("王阿姨", "请问在派出所能办结婚登记吗？", room=RESIDENTS)
    await bot.say("张警官", "/咨询")
    await bot.say("张警官", "/咨询 回复 1 可以由家属代办，有事打13812345678")
    await bot.say("张警官", "/咨询 回复")
    async with bot.app.sessions() as session:
        audit = (await session.execute(select(AuditEntry.command, AuditEntry.args, AuditEntry.outcome)
                                       .order_by(AuditEntry.id))).all()
    assert audit == [("咨询", "", "ok"), ("咨询 回复", "1 可以由家属代办，有事打138****5678", "answered #1"),
                     ("咨询 回复", "", "usage")]
    assert "用法：/咨询 回复 编号 答复内容" in bot.texts_to("张警官", bot.take())[-1]


async def test_help_lists_each_subcommand_an_officer_may_use(bot):
    help_text = ""
    for command in ("咨询", "建议", "纠纷", "本群", "群"):
        await bot.say("张警官", f"/帮助 {command}")
        help_text += bot.texts_to("张警官", bot.take())[-1] + "\n"
    for line in ("/咨询：查看待回复的居民咨询", "/咨询 回复 编号 答复内容：", "/建议 回复 编号 答复内容：",
                 "/纠纷 化解 编号 化解情况：", "/本群 类别 居民群", "/群 类别 群名 居民群"):
        assert line in help_text, line
    await bot.say("王阿姨", "/帮助", room=RESIDENTS)
    assert "/咨询" not in bot.texts_to(RESIDENTS, bot.take())[-1]


async def test_officer_sets_group_categories_by_subcommand(bot):
    await bot.say("张警官", "/群 类别 幸福里沿街商户群 居民")
    assert "“幸福里沿街商户群”已设为居民群" in bot.texts_to("张警官", bot.take())[-1]
    assert bot.app.directory.group(bot.room_id(SHOPS)).category == "resident"
    await bot.say("张警官", "/本群 类别 商户群", room=SHOPS)
    assert "已设为商户群" in bot.texts_to(SHOPS, bot.take())[-1]
    assert bot.app.directory.group(bot.room_id(SHOPS)).category == "merchant"

    for said, room, expected in (("/本群", SHOPS, "用法：/本群 类别 居民群（可选：居民群、"),
                                 ("/本群 类别 居民 群", SHOPS, "用法：/本群 类别 居民群（可选："),
                                 ("/本群 类别 菜市场", SHOPS, "没有“菜市场”这个类别"),
                                 ("/群 类别 居民群", None, "用法：/群 类别 群名 居民群（可选："),
                                 ("/群 改名 某群", None, "只发 /群 可查看所有群"),
                                 ("/群 类别 没有这个群 居民群", None, "没有找到名为“没有这个群”的群")):
        await bot.say("张警官", said, room=room)
        assert expected in bot.texts_to(room or "张警官", bot.take())[-1], said
    assert bot.app.directory.group(bot.room_id(SHOPS)).category == "merchant"
    async with bot.app.sessions() as session:
        commands = (await session.execute(select(AuditEntry.command).order_by(AuditEntry.id))).scalars().all()
    assert commands[:2] == ["群 类别", "本群 类别"]
