"""The command line: `jingmin stats` and `jingmin export registers` (CSV and XLSX)."""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.cli import main
from bot.clock import SHANGHAI
from bot.harness import Harness
from storage import counters
from tests.conftest import make_config, sample_raw


@pytest.fixture
def config_file(db_url, tmp_path):
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    async def seed() -> None:
        async with Harness(make_config(db_url)) as bot:
            app = bot.app
            async with app.sessions.begin() as session:
                at = datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
                for room, category, n in (("幸福里居民群", "resident", 800), ("幸福里3号楼群", "building", 200)):
                    await counters.bump(session, app.name, at, "messages", room_id=bot.room_id(room),
                                        category=category, n=n)
                await counters.bump(session, app.name, at, "consultations", room_id=bot.room_id("幸福里居民群"),
                                    category="resident", key="answered", n=15)
                await counters.bump(session, app.name, at, "suggestions", n=8)

    asyncio.run(seed())
    return path


def test_stats_prints_the_report(config_file, capsys):
    assert main(["stats", "--from", "2026-12-07", "--to", "2026-12-13", "--config", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "交流信息1000条" in out and "业务咨询15次" in out and "意见建议8条" in out


def test_stats_csv_has_a_row_per_group_and_a_total(config_file, capsys):
    assert main(["stats", "--from", "2026-12-07", "--to", "2026-12-13", "--csv", "--config", str(config_file)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    by_name = {r["群"]: r for r in rows}
    assert by_name["幸福里居民群"]["交流信息"] == "800"
    assert by_name["幸福里居民群"]["业务咨询"] == "15"
    assert by_name["幸福里3号楼群"]["分类"] == "楼栋群"
    assert by_name["私聊"]["意见建议"] == "8"
    assert by_name["合计"]["交流信息"] == "1000"


def test_stats_for_one_group(config_file, capsys):
    assert main(["stats", "--from", "2026-12-07", "--to", "2026-12-13", "--group", "幸福里3号楼群",
                 "--config", str(config_file)]) == 0
    assert "交流信息200条" in capsys.readouterr().out
    assert main(["stats", "--from", "2026-12-07", "--to", "2026-12-13", "--group", "没有这个群",
                 "--config", str(config_file)]) == 2


def test_the_reception_register_has_every_consultation_booking_tip_and_suggestion(db_url, tmp_path, capsys):
    """Real conversations in, `jingmin export registers` and `/预约 导出` out: one register, one
    format. A confidential tip's row has its time, category and handling, and never who."""
    from tests.test_appointments import book, say

    raw = yaml.safe_load(config_path_for(db_url, tmp_path).read_text(encoding="utf-8"))
    config_file = tmp_path / "config.yaml"
    sent_files: list[str] = []

    async def talk() -> None:
        async with Harness(make_config(db_url)) as bot:  # Monday 2026-12-07 08:00 Beijing
            await say(bot, "王阿姨", "请问办理居住证需要带什么材料？", room="幸福里居民群")
            code = await book(bot, "陈大爷", name="陈建国", phone="13912345678")
            for said in ("举报", "1", "有人冒充公检法打电话让转账", "跳过", "保密", "确认"):
                await say(bot, "小周", said)
            for said in ("举报", "4", "车棚的电动车电瓶被偷了", "昨晚", "不用", "确认"):
                await say(bot, "老吴", said)
            await say(bot, "张警官", "/线索 回复 2 已调取监控")
            await say(bot, "王阿姨", "建议：小区东门晚上太黑了，加个路灯吧", room="幸福里居民群")
            await say(bot, "张警官", f"/预约 完成 {code}")
            await say(bot, "张警官", "/预约 导出 2026-12-07 2026-12-08")
            sent_files.extend(r.out.text for r in bot.sent if r.out.kind == "file")

    asyncio.run(talk())
    assert main(["export", "registers", "--from", "2026-12-07", "--to", "2026-12-08", "--config",
                 str(config_file)]) == 0
    assert "接待服务登记簿: 5 rows" in capsys.readouterr().out
    folder = Path(raw["data_dir"]) / "exports"
    csv_path = folder / "接待服务登记簿_20261207-20261208.csv"
    assert sorted(Path(p).name for p in sent_files) == ["接待服务登记簿_20261207-20261208.csv",
                                                          "接待服务登记簿_20261207-20261208.xlsx"]
    with csv_path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["类别"], r["事项"], r["来源"], r["群众"], r["办理情况"]) for r in rows] == [
        ("业务咨询", "居住证", "幸福里居民群", "王**", "自动解答"),
        ("预约办理", "居住证", "私聊", "陈**", "已办结"),
        ("线索举报", "诈骗/经济犯罪", "", "", "待处理"),
        ("线索举报", "线索 #2（治安/盗窃）", "私聊", "未要求保密，见 /线索 查看 2", "已回复，处理中"),
        ("意见建议", "小区东门晚上太黑了，加个路灯吧", "幸福里居民群", "王**", "待回复"),
    ]
    everything = csv_path.read_text(encoding="utf-8-sig")
    assert "小周" not in everything and "小*" not in everything and "冒充公检法" not in everything
    wb = load_workbook(folder / "接待服务登记簿_20261207-20261208.xlsx")
    values = [list(r) for r in wb.active.iter_rows(values_only=True)]
    assert values[1][:3] == ["序号", "登记时间", "类别"] and len(values) == 2 + 5


def config_path_for(db_url: str, tmp_path: Path) -> Path:
    """config.yaml for the CLI: the same community, database and data_dir as make_config's."""
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    raw["data_dir"] = str(make_config(db_url).data_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_dispute_register_shows_how_each_dispute_was_resolved(db_url, tmp_path, capsys):
    """Disputes raised in chat and resolved by /纠纷 化解 come out in 矛盾纠纷排查化解登记簿, by local day."""
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    async def talk() -> None:
        async with Harness(make_config(db_url)) as bot:  # the clock starts at 2026-12-07 08:00 Beijing
            await bot.say("小周", "楼上天天半夜跺脚，说了也不听，我电话13912345678", room="幸福里3号楼群")
            await bot.run_until(datetime(2026, 12, 8, 0, 30, tzinfo=SHANGHAI))  # 12-07 16:30 UTC
            await bot.say("老吴", "隔壁邻居家的狗天天半夜叫，跟他说了还跟我吵架")
            await bot.run_until(datetime(2026, 12, 8, 9, 0, tzinfo=SHANGHAI))
            await bot.say("张警官", "/纠纷 化解 1 已上门调解，楼上同意晚上十点后注意")

    asyncio.run(talk())

    def register(start: str, end: str) -> list[dict[str, str]]:
        out = tmp_path / f"registers-{start}-{end}"
        assert main(["export", "registers", "--from", start, "--to", end, "--out", str(out),
                     "--config", str(path)]) == 0
        [csv_path] = out.glob("矛盾纠纷排查化解登记簿_*.csv")
        with csv_path.open(encoding="utf-8-sig") as f:
            return list(csv.DictReader(f))

    [resolved] = register("2026-12-07", "2026-12-07")  # 老吴's came after midnight Beijing time
    assert resolved["登记时间"] == "2026-12-07 08:00" and resolved["来源"] == "幸福里3号楼群"
    assert "楼上天天半夜跺脚" in resolved["简要情况"] and "13912345678" not in resolved["简要情况"]
    assert resolved["当事人"] == "小*"
    assert resolved["化解情况"] == "已化解：已上门调解，楼上同意晚上十点后注意"
    assert resolved["化解时间"] == "2026-12-08 09:00" and resolved["经办人"] == "张警官"

    first, still_open = register("2026-12-07", "2026-12-08")
    assert first["序号"] == "1" and still_open["序号"] == "2"
    assert (still_open["登记时间"], still_open["来源"], still_open["当事人"]) == ("2026-12-08 00:30", "私聊", "老*")
    assert (still_open["化解情况"], still_open["化解时间"], still_open["经办人"]) == ("尚未化解", "", "")
    assert "矛盾纠纷排查化解登记簿: 2 rows" in capsys.readouterr().out
