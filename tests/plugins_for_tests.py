"""A plugin the tests load by name through config.yaml's `plugins:` list (as an operator would
add one): it adds fixed rows to both registers, so the exporter's ordering, numbering and time
zones can be checked on known data."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.clock import SHANGHAI
from bot.plugin import Plugin
from storage.registers import RegisterRow

rows_plugin = Plugin("fixed_register_rows")
asked: list[tuple] = []


@rows_plugin.register_rows("reception")
async def reception(session, config, start, end):
    asked.append((config.bot.name, start, end))
    return [
        RegisterRow(datetime(2026, 12, 9, 15, 30, tzinfo=SHANGHAI),
                    {"类别": "预约", "事项": "居住证", "来源": "私聊", "群众": "王**", "办理情况": "已办结"}),
        RegisterRow(datetime(2026, 12, 8, 2, 5, tzinfo=timezone.utc),
                    {"类别": "咨询", "事项": "身份证补办", "来源": "幸福里居民群", "办理情况": "自动解答"}),
    ]


@rows_plugin.register_rows("dispute")
async def disputes(session, config, start, end):
    return [RegisterRow(datetime(2026, 12, 10, 20, 0, tzinfo=SHANGHAI),
                        {"来源": "幸福里3号楼群", "纠纷类型": "邻里噪音", "化解情况": "已调解"})]
