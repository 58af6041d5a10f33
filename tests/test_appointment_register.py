"""Bookings in the 接待服务登记簿: residents book through the dialog, officers complete one and mark
another as a no-show, and `jingmin export registers` writes a row for each booking made in the
days asked for, with the times the system recorded and no phone number.

The harness clock starts on Monday 2026-12-07 08:00 (Asia/Shanghai).
"""

from __future__ import annotations

import asyncio
import csv
from datetime import datetime

import yaml
from openpyxl import load_workbook

from bot.cli import main
from bot.clock import SHANGHAI
from bot.harness import Harness
from tests.conftest import make_config, sample_raw
from tests.test_appointments import book, say

PHONES = ("13812345678", "13912345678", "13700001111")


def test_bookings_made_in_the_days_asked_for_are_in_the_reception_register(db_url, tmp_path):
    raw = sample_raw()
    raw["database"] = {"url": db_url}
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    async def talk() -> None:
        async with Harness(make_config(db_url)) as bot:
            done = await book(bot, "王阿姨", day="明天", slot="9:00", name="王芳", phone=PHONES[0])
            missed = await book(bot, "陈大爷", service="身份证", day="明天", slot="1", name="陈建国",
                                phone=PHONES[1])
            dropped = await book(bot, "小周", day="明天", slot="10:00", name="周小明", phone=PHONES[2])
            await say(bot, "小周", f"取消预约 {dropped}")
            await bot.run_until(datetime(2026, 12, 8, 9, 10, tzinfo=SHANGHAI))
            await say(bot, "张警官", f"/预约 完成 {done}")
            await say(bot, "张警官", f"/预约 爽约 {missed}")
            await book(bot, "老吴", day="12月10日", slot="1", name="吴国强", phone="13600002222")  # on the 8th

    asyncio.run(talk())

    def register(start: str, end: str) -> list[dict[str, str]]:
        out = tmp_path / f"registers-{start}-{end}"
        assert main(["export", "registers", "--from", start, "--to", end, "--out", str(out),
                     "--config", str(config_file)]) == 0
        [csv_path] = out.glob("接待服务登记簿_*.csv")
        text = csv_path.read_text(encoding="utf-8-sig")
        assert not any(p in text or f"{p[:3]}****{p[-4:]}" in text for p in PHONES)
        return [r for r in csv.DictReader(text.splitlines()) if r["类别"] == "预约办理"]

    monday = register("2026-12-07", "2026-12-07")
    assert [(r["事项"], r["来源"], r["群众"], r["办理情况"], r["办结时间"], r["经办人"]) for r in monday] == [
        ("居住证", "私聊", "王*", "已办结", "2026-12-08 09:10", "张警官"),
        ("身份证", "私聊", "陈**", "爽约", "", "张警官"),
        ("居住证", "私聊", "周**", "已取消", "", ""),
    ]
    assert [r["登记时间"] for r in monday] == ["2026-12-07 08:01", "2026-12-07 08:03", "2026-12-07 08:05"]
    assert [r["序号"] for r in monday] == ["1", "2", "3"]

    both_days = register("2026-12-07", "2026-12-08")
    assert len(both_days) == 4
    assert (both_days[-1]["登记时间"][:10], both_days[-1]["群众"], both_days[-1]["办理情况"]) == \
        ("2026-12-08", "吴**", "已预约")

    wb = load_workbook(tmp_path / "registers-2026-12-07-2026-12-08" / "接待服务登记簿_20261207-20261208.xlsx")
    cells = [str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v is not None]
    assert "王*" in cells and not any(p[:3] in c and p[-4:] in c for p in PHONES for c in cells)
