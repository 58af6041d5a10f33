"""Every sentence the pushes feature can say, in one place for an officer to review.

`TEXTS`: schedules (/定时, /计划 ...), pushing now (/公告, /反诈) and the summary after it.
`LIBRARY`: the anti-fraud notice library (/反诈 新增, 列表, 删除, 停用, 启用).
`KIND_HEADINGS`: the first words of an announcement or police news in a group.
A notice's own heading and its call line are part of the notice (notices.Notice.as_message);
a time expression's errors come with it (timeexpr.TimeExprError).
"""

from __future__ import annotations

import datetime as dt

from bot.config import CATEGORIES
from handlers.pushes.notices import FRAUD_TYPES
from handlers.pushes.timeexpr import EXAMPLE_COMMAND

TYPES_TEXT = "、".join(FRAUD_TYPES)
HOLIDAY_EXAMPLE = "例如：/定时 每周五 16:00 反诈 居民群 节假日不发"

KIND_HEADINGS = {"announcement": "【社区公告】", "police_news": "【警务动态】"}

TEXTS = {
    # /定时
    "usage": "用法：/定时 时间 内容 目标 [文字] [节假日不发]。内容可以是 反诈、公告、警务动态；目标可以是群名、居民群、楼栋群、"
             "工作群、商户群、学校群 或 全部。最后写“节假日不发”，法定节假日就不发（周末照发）；时间写“工作日”，"
             "周末和节假日都不发。" + EXAMPLE_COMMAND,
    "holiday_usage": "想让计划在法定节假日不发送，请在最后写“节假日不发”，" + HOLIDAY_EXAMPLE,
    "too_far": "抱歉，{day} 太远了，一次性的推送只能安排在两年以内。例如：/定时 明天 09:00 反诈 居民群",
    "holiday_once": "{day} 是法定节假日，按“节假日不发”这次不会发送。请换一天，或去掉“节假日不发”。",
    "bad_notice_type": "抱歉，“{word}”不是反诈类型。可以不写类型（轮换推送各类提醒），或写其中一种：" + TYPES_TEXT,
    "bad_kind": "抱歉，“{word}”不是可以推送的内容。请写 反诈、公告 或 警务动态。" + EXAMPLE_COMMAND,
    "bad_target": "抱歉，没有找到“{target}”，这次什么也没有发。目标可以是 {categories} 或 全部，"
                  "也可以是这些群：{groups}。" + EXAMPLE_COMMAND,
    "no_groups": "“{target}”下面还没有分好类的群，推送不会发给任何群。请先给群设置类别。",
    "need_text": "请在目标后面写上要发的内容，例如：/定时 每天 08:30 公告 全部 今天下午停水",
    "duplicate": "已经有一样的计划了：计划 {id}{where}（{when} 向{target}推送{kind}），没有重复建立。"
                 "发送 /计划 可以查看。",
    "in_quiet_hours": "{when} 在休息时间（{start} 到 {end}）里，群里的推送要等到早上 {end} 才会发出。"
                      "请换一个 {end} 到 {start} 之间的时间，例如：/定时 每周一 09:00 反诈 居民群",
    "created": "好的，已建立计划 {id}：{when} 向{target}推送{kind}{holiday}。下次发送：{next}。"
               "可以用 /暂停计划 {id} 或 /取消计划 {id} 管理。",
    "created_never": "好的，已建立计划 {id}，不过按这个时间它不会再发送了，请检查时间。",
    "holiday_created": "，节假日不发",
    # /计划
    "list_empty": "现在没有推送计划。可以用 /定时 建立，" + EXAMPLE_COMMAND,
    "list_head": "推送计划（共{n}个）：",
    "list_line": "{id}. {when}{holiday} {kind} → {target}{extra}　下次：{next}",
    "holiday_mark": "（节假日不发）",
    "paused_mark": "（已暂停）",
    "config_mark": "（配置文件）",
    "district_mark": "（分局统一）",
    "no_next": "无",
    # /取消计划, /暂停计划, /恢复计划
    "ask_id": "请写上计划编号，例如：/{command} 3。发送 /计划 可以看到所有编号。",
    "not_found": "没有编号为 {id} 的计划。发送 /计划 可以看到所有编号。",
    "config_cancel": "计划 {id} 写在配置文件 config.yaml 里，请在那里删除；现在可以先用 /暂停计划 {id} 暂停它。",
    "district_cancel": "计划 {id} 是分局统一安排的，请分局在分局的配置里删除；现在可以先用 /暂停计划 {id} 在本社区暂停它。",
    "cancelled": "计划 {id} 已取消。",
    "paused": "计划 {id} 已暂停，用 /恢复计划 {id} 可以恢复。",
    "resumed": "计划 {id} 已恢复，下次发送：{next}。",
    # /公告, /警务动态, /反诈: push now
    "announce_usage": "用法：/公告 要发的内容 [目标]，例如：/公告 今天下午2点到5点停水，请提前储水。 居民群",
    "antifraud_usage": "用法：/反诈 [类型] [目标]，例如：/反诈 冒充公检法 居民群。类型有：" + TYPES_TEXT
                       + "。管理提醒：/反诈 新增 类型 文字、/反诈 列表 [类型]、/反诈 删除 编号。",
    "bad_antifraud_word": "抱歉，“{word}”既不是反诈类型，也不是可以推送的目标，这次什么也没有发。类型有："
                          + TYPES_TEXT + "；目标可以是 {categories} 或 全部，也可以是这些群：{groups}。",
    "no_notice": "现在没有可以推送的{type}反诈提醒（都停用或删除了）。发 /反诈 列表{arg} 看看，可以新增或启用。",
    "queued": "好的，正在向 {n} 个群推送{kind}，发完后告诉您结果。",
    "queued_quiet": "好的，现在是休息时间，{kind}会在 {at} 开始向 {n} 个群推送，发完后告诉您结果。",
    "nothing_queued": "这些群已经推送过了，没有重复发送。",
    # the summary after a push now
    "summary_ok": "推送完成：已推送 {sent}/{total} 个群。",
    "summary_failed": "推送完成：已推送 {sent}/{total} 个群。没有发出去的群：{failed}。可以稍后再推送一次。",
    "summary_uncertain": "另外 {uncertain} 因为机器人重启，不确定是否收到，请到群里看一下。",
}

LIBRARY = {
    "add_usage": "用法：/反诈 新增 类型 提醒文字，例如：/反诈 新增 冒充公检法 公检法机关不会通过电话、微信办案，"
                 "更没有“安全账户”。类型有：" + TYPES_TEXT,
    "bad_type": "抱歉，没有“{word}”这个类型。类型有：" + TYPES_TEXT,
    "need_text": "请在类型后面写上提醒文字，例如：/反诈 新增 {type} 接到陌生来电要求转账，先挂电话再核实。",
    "too_long": "提醒文字有 {n} 个字，最多 {max} 个字，请精简后再发。",
    "duplicate": "已经有一条一样的提醒了（编号 {id}），没有重复添加。",
    "added": "好的，已新增反诈提醒 {id}（{type}），会和其他提醒一起轮换推送。居民会看到：\n{message}\n"
             "不需要了可以发 /反诈 删除 {id}。",
    "list_all_head": "反诈提醒库（内置 {builtin} 条，新增 {custom} 条）：",
    "list_type_line": "{type}：{counts}",
    "count_builtin": "内置 {n} 条",
    "count_custom": "新增 {n} 条",
    "count_disabled": "停用 {n} 条",
    "list_custom_head": "新增的提醒：",
    "list_all_tail": "发 /反诈 列表 类型 可以看到每一条和它的编号。",
    "list_type_head": "{type}的反诈提醒（共 {n} 条）：",
    "list_type_empty": "{type}现在没有反诈提醒。可以用 /反诈 新增 {type} 提醒文字 添加。",
    "builtin_line": "· 内置 {id}：{title}{mark}",
    "custom_line": "· 新增 {id}：{preview}（{day} 添加）",
    "custom_line_typed": "· 新增 {id}（{type}）：{preview}（{day} 添加）",
    "disabled_mark": "（已停用）",
    "list_type_tail": "新增的可以 /反诈 删除 编号，内置的可以 /反诈 停用 编号。",
    "ask_id": "请写上提醒的编号，例如：/反诈 {word} {example}。发 /反诈 列表 类型 可以看到编号。",
    "not_found": "没有编号为“{id}”的反诈提醒。发 /反诈 列表 类型 可以看到编号。",
    "deleted": "已删除反诈提醒 {id}，以后不会再推送。",
    "builtin_delete": "“{id}”是内置提醒，不能删除。不想再推送它，可以发 /反诈 停用 {id}。",
    "custom_disable": "提醒 {id} 是新增的，不想再推送请发 /反诈 删除 {id}。",
    "disabled": "已停用内置提醒 {id}，以后不会再推送。要恢复请发 /反诈 启用 {id}。",
    "already_disabled": "内置提醒 {id} 已经是停用的了。要恢复请发 /反诈 启用 {id}。",
    "enabled": "已启用内置提醒 {id}，会重新加入轮换推送。",
    "not_disabled": "内置提醒 {id} 没有停用，正在轮换推送中。",
}


class Refusal(Exception):
    """A command that cannot be done as written: the reply's TEXTS key and its fields."""

    def __init__(self, key: str, **fields: str) -> None:
        super().__init__(key)
        self.key, self.fields = key, fields

    @property
    def text(self) -> str:
        return TEXTS[self.key].format(**self.fields)


def categories_text() -> str:
    return "、".join(CATEGORIES.values())


def target_label(target: str) -> str:
    """"resident" -> "居民群"; a group's own name stays as it is."""
    return CATEGORIES.get(target, target)


def time_text(when: dt.datetime | None, tz: dt.tzinfo) -> str:
    return f"{when.astimezone(tz):%Y-%m-%d %H:%M}" if when else TEXTS["no_next"]
