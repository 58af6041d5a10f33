"""Files for the office: a per-group statistics table (CSV). The registers' writer is the core's
(bot.register_files), shared with the chat commands that export one."""

from __future__ import annotations

import csv
import io

from bot.config import CATEGORIES
from bot.directory import Directory
from handlers.stats.report import messages_of
from storage.stats import Totals

STATS_COLUMNS = ("群", "分类", "交流信息", "业务咨询", "意见建议", "线索举报", "预约办理", "推送", "紧急求助提醒",
                 "诈骗预警", "新入群", "新好友")


def _stats_row(name: str, category: str, numbers: dict[str, int]) -> list[str]:
    return [name, category, str(messages_of(numbers)), str(numbers.get("consultations", 0)),
            str(numbers.get("suggestions", 0)), str(numbers.get("tips", 0)),
            str(numbers.get("appointments_booked", 0)), str(numbers.get("pushes", 0)),
            str(numbers.get("emergencies", 0)), str(numbers.get("scam_warnings", 0)),
            str(numbers.get("new_members", 0)), str(numbers.get("new_friends", 0))]


def stats_csv(totals: Totals, directory: Directory) -> str:
    """One row per group (and private chats), then the total."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATS_COLUMNS)
    whole: dict[str, int] = {}
    rows = []
    for room_id, numbers in totals.by_room.items():
        group = directory.group(room_id) if room_id else None
        name = group.name if group else (room_id or "私聊")
        category = CATEGORIES.get(group.category or "", "") if group else ""
        rows.append(_stats_row(name, category, numbers))
        for metric, value in numbers.items():
            whole[metric] = whole.get(metric, 0) + value
    writer.writerows(sorted(rows, key=lambda r: (r[1], r[0])))
    writer.writerow(_stats_row("合计", "", whole))
    return out.getvalue()
