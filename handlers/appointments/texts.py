"""Every sentence the appointments feature can say, to a resident or to an officer, and how it
writes a day, a time and a list. An officer can review them all here."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from handlers.appointments.config import ServiceConfig
from storage.appointments import BOOKED, CANCELLED, COMPLETED, NO_SHOW

TEXTS = {
    "group_hint": "预约办理请先加我为好友，再私聊我发“预约”两个字。为保护您的个人信息，群里不办理预约。",
    "private_please": "这件事涉及您的个人信息，请私聊我办理。",
    "no_services": "目前警务室没有开放网上预约，请直接到警务室咨询。",
    "ask_service": "请问您要办哪一项？回复数字就行：\n{choices}\n（不办了随时回复“取消”）",
    "ask_day": "{service}：哪天来？回复数字，或直接说“{example}”：\n{choices}",
    "no_days": "很抱歉，最近{days}天{service}都已约满或不办公。请过几天再来约，或回复“返回”换一项业务。",
    "ask_slot": "{day}{part}还有这些时间，回复数字或说几点（如“{example}”）：\n{choices}",
    "no_slots": "{day}{part}已经没有空位了，请回复“返回”换一天。",
    "more": "回复“更多”看其余{n}个",
    "ask_name": "请告诉我办理人的姓名：",
    "bad_name": "姓名请用文字写，2到20个字，不要带数字。",
    "ask_phone": "请留一个手机号（11位数字），方便警务室联系您：",
    "bad_phone": "这个号码不对：手机号是11位数字，以1开头。请再输一次。",
    "summary": ("请核对您的预约：\n办理事项：{service}\n时间：{when}\n地点：{place}\n姓名：{name}\n手机：{phone}\n"
                "需要带：{materials}\n没问题请回复“确认”；要改时间回复“改时间”；不约了回复“取消”。"),
    "bad_service": "没看明白要办哪一项，请回复前面的数字，比如“1”。",
    "help_service": "请回复要办的事项前面的数字，比如办{first}就回复“1”。",
    "bad_day": "没看明白是哪一天，回复数字，或说“{example}”。",
    "help_day": "请回复日子前面的数字，比如“1”就是{first}；也可以直接说“{example}”。",
    "day_first": "请先说哪一天，比如“{example}”，或回复数字。",
    "bad_slot": "没看明白是几点，回复数字，或说“{example}”。",
    "help_slot": "请回复时间前面的数字，比如“1”就是{first}；也可以说“{example}”。",
    "help_name": "请直接写办理人的名字，比如“王秀英”。",
    "help_phone": "请写11位手机号，比如“13812345678”。",
    "bad_confirm": "没问题请回复“确认”，要改时间回复“改时间”，不约了回复“取消”。",
    "help_confirm": "请回复“确认”两个字，预约就办好了；不约了回复“取消”。",
    "slot_taken": "{at}这个时间已约满，最近还有：{nearest}。回复数字或说几点。",
    "slot_closed": "{at}警务室不办理，办理时间是{hours}。请换个时间，比如“{example}”。",
    "day_off": "{day}不能预约（不办公或已约满）。最近能约的是：{nearest}。",
    "vague_day": "好的，最早能约的是{day}。",
    "vague_slot": "好的，最早的是{at}。",
    "date_far": "{error}",
    "day_choice": "{day} 还有{n}个位置",
    "slot_choice": "{start:%H:%M}-{end:%H:%M} 还剩{free}位",
    "booked": ("预约成功！您的预约码是 {code}\n{service}，{when}\n地点：{place}\n请带好：{materials}\n"
               "{reminders}要取消请发“取消预约”，改时间请发“改约”。"),
    "remind_both": "前一天晚上和开始前{before}我会提醒您。\n",
    "remind_evening": "前一天晚上我会提醒您。\n",
    "remind_hour": "开始前{before}我会提醒您。\n",
    "remind_none": "请记好时间，按时来。\n",
    "rescheduled": "改约成功！预约码还是 {code}，新的时间是 {when}。原来的时间已经为您取消。{reminders}",
    "reschedule_kept": "好的，不改了。您原来的预约（{when}，预约码 {code}）还保留着。",
    "cancel_which": "您有{n}个预约，要取消哪一个？回复数字：\n{choices}",
    "cancel_confirm": "您约的是{service}，{when}，预约码 {code}。确定要取消吗？回复“确认”取消；不取消回复“不”。",
    "cancel_kept": "好的，不取消，预约还保留着。",
    "help_cancel": "确定取消请回复“确认”；不取消回复“不”。",
    "pick_booking": "请回复前面的数字，比如“1”。",
    "slot_full": "很抱歉，这个时间刚刚被别人约满了。请换一个时间：",
    "already": ("您已经约了{service}（{when}，预约码 {code}）。每项业务同时只能约一个时间。"
                "要换时间请发“改约 {code}”。"),
    "mine_none": "您目前没有预约。需要的话私聊我发“预约”。",
    "mine_head": "您的预约：",
    "mine_line": "· {code} {service}，{when}，{place}",
    "mine_tail": "取消请发“取消预约 预约码”，改时间请发“改约 预约码”（只有一个预约时不用写预约码）。",
    "code_please": "请在后面加上预约码，例如“{verb} {example}”。不记得预约码可以发“我的预约”查看。",
    "no_such": "没有找到预约码 {code} 的有效预约。请发“我的预约”查看您的预约码。",
    "cancelled": "已为您取消预约 {code}（{service}，{when}）。需要时可以再发“预约”。",
    "reschedule_start": "好的，为您改约{service}（原来是{when}）。",
    "reminder_evening": ("温馨提醒：您明天{when}预约了{service}，预约码 {code}。\n地点：{place}\n"
                         "请带好：{materials}\n来不了请发“取消预约 {code}”，把位置让给别人。"),
    "reminder_hour": "温馨提醒：您预约的{service}一小时后（{time}）开始，预约码 {code}。地点：{place}。请带好：{materials}",
    "day_closed_notice": ("很抱歉，{day}警务室暂停办理预约业务{reason}。您预约的{service}（{when}，预约码 {code}）"
                          "已取消。\n{alternatives}\n请私聊我发“预约”重新约一个时间，给您添麻烦了。"),
    "alternatives": "最近还能约的日子：{days}。",
    "no_alternatives": "最近几天暂时都约满了，过几天再来约。",
}

STAFF_TEXTS = {
    "usage": ("用法：/预约 [今天|明天|日期] 查看名单；/预约 完成 预约码；/预约 爽约 预约码；"
              "/预约 电话 预约码（民警看完整手机号）；/预约 关闭 日期 [原因]；/预约 开放 日期；/预约 导出 起始日期 结束日期"),
    "bad_date": "没看懂日期“{text}”。可以写 今天、明天、12月8日、2026-12-08。",
    "list_none": "{day}没有预约。{closed}",
    "list_head": "{day}的预约（共{n}个，民警要联系本人可发 /预约 电话 预约码 看完整手机号）：{closed}",
    "list_line": "{time} {service} {name} {phone} 码{code} {status}",
    "closed_mark": "（这一天已关闭：{reason}）",
    "marked": "已记录：{code} {name} {service} {when} → {status}。",
    "too_early_no_show": "预约 {code} 的时间（{when}）还没到，现在不能标爽约。",
    "not_markable": "预约 {code} 现在是“{status}”，不能再改。",
    "closed": "已关闭 {day} 的预约{reason}。已通知{n}位预约了这天的居民。",
    "already_closed": "{day} 已经是关闭的。",
    "reopened": "已重新开放 {day} 的预约。",
    "not_closed": "{day} 本来就没有关闭。",
    "exported": "已导出 {start} 至 {end} 的接待服务登记簿（咨询、预约、线索、建议），共{n}条，Excel 和 CSV 文件随后发给您：{path}",
    "phone": "预约 {code}（{service}，{when}）{name} 的手机号：{phone}\n此次查看已记入审计日志，请只用于联系本人。",
    "report_upcoming": "接下来{days}天待办理的预约{n}件",
    "bad_range": "请写起始和结束日期，例如：/预约 导出 2026-12-01 2026-12-31",
}
STATUS_NAMES = {BOOKED: "已预约", CANCELLED: "已取消", COMPLETED: "已办结", NO_SHOW: "爽约"}
DEFAULT_MATERIALS = "本人身份证"
WEEKDAY_NAMES = "一二三四五六日"

# The /预约 导出 file: the post's own list, masked phone included (the officer calls residents).
# Cells of the 接待服务登记簿 (storage.registers) rows this feature adds.
REGISTER_TEXTS = {"category": "预约办理", "source": "私聊"}


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAY_NAMES[day.weekday()]}）"


def when_label(start: datetime, end: datetime, tz: tzinfo) -> str:
    start, end = start.astimezone(tz), end.astimezone(tz)
    return f"{day_label(start.date())}{start:%H:%M}-{end:%H:%M}"


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def materials_of(service: ServiceConfig | None) -> str:
    """What to bring; a service no longer in the config: the ID card everyone needs."""
    return "、".join(service.materials) if service and service.materials else DEFAULT_MATERIALS


def place_of(service: ServiceConfig | None, police_post: str) -> str:
    return (service.place if service else "") or police_post
