"""Scheduled pushes: 社区公告, 警务动态 and 反诈 notices to groups by category, on schedule or now.

    /定时 每周一 09:00 反诈 居民群 [节假日不发]   /计划   /取消计划 3   /暂停计划 3   /恢复计划 3
    /公告 今天下午停水 [目标]                     /反诈 [刷单返利] [目标]
    /反诈 新增|列表|删除|停用|启用 ...  (the notice library, see notice_commands.py)

Every push goes through the paced outbox with quiet hours respected and a dedup key of
schedule, due time and group, so a double fire or a restart mid-push never sends twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.commands import parse_command
from bot.config import CATEGORIES
from bot.context import Context
from bot.messages import Outgoing
from bot.plugin import STAFF, Plugin
from bot.quiet import quiet_end
from handlers.pushes import notice_commands, schedules
from handlers.pushes.config import PUSH_KINDS, PushSettings
from handlers.pushes.delivery import NoticeLibrary, load_library, push_to_groups, resolve_target, skips_day
from handlers.pushes.notice_commands import SUBCOMMANDS, fraud_type
from handlers.pushes.notices import FRAUD_TYPES
from handlers.pushes.timeexpr import EXAMPLE_COMMAND, TimeExprError, When, split_when
from storage.models import OutboxMessage
from storage.pushes import PushScheduleRow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

plugin = Plugin("pushes", config=PushSettings, order=40)


@plugin.provides(NoticeLibrary)
async def notice_library(app) -> NoticeLibrary:
    return load_library(app)

KIND_WORDS = {"反诈": "antifraud", "防诈": "antifraud", "防范宣传": "antifraud", "公告": "announcement",
              "社区公告": "announcement", "通知": "announcement", "警务动态": "police_news",
              "警务": "police_news"}
DEFAULT_TARGET = "resident"
SUMMARY_RECHECK = dt.timedelta(minutes=5)
SUMMARY_MAX_CHECKS = 60  # five hours of re-checks, enough for a night's quiet hours
# "节假日不发" and the ways officers say it, as one word right after the time or at the very end.
HOLIDAY_FLAG = re.compile(r"[（(]?(?:(?:法定)?节假日(?:不发|不发送|不推送|停发|除外|跳过|休息)|跳过(?:法定)?节假日)[)）]?[。.]?")
HOLIDAY_EXAMPLE = "例如：/定时 每周五 16:00 反诈 居民群 节假日不发"

TEXTS = {
    "usage": "用法：/定时 时间 内容 目标 [文字] [节假日不发]。内容可以是 反诈、公告、警务动态；目标可以是群名、居民群、楼栋群、"
             "工作群、商户群、学校群 或 全部。最后写“节假日不发”，法定节假日就不发（周末照发）；时间写“工作日”，"
             "周末和节假日都不发。" + EXAMPLE_COMMAND,
    "holiday_usage": "想让计划在法定节假日不发送，请在最后写“节假日不发”，" + HOLIDAY_EXAMPLE,
    "holiday_once": "{day} 是法定节假日，按“节假日不发”这次不会发送。请换一天，或去掉“节假日不发”。",
    "bad_notice_type": "抱歉，“{word}”不是反诈类型。可以不写类型（轮换推送各类提醒），或写其中一种："
                       + "、".join(FRAUD_TYPES),
    "bad_kind": "抱歉，“{word}”不是可以推送的内容。请写 反诈、公告 或 警务动态。" + EXAMPLE_COMMAND,
    "bad_target": "抱歉，没有找到“{target}”。目标可以是群名，或 {categories}，或 全部。" + EXAMPLE_COMMAND,
    "no_groups": "“{target}”下面还没有分好类的群，推送不会发给任何群。请先给群设置类别。",
    "need_text": "请在目标后面写上要发的内容，例如：/定时 每天 08:30 公告 全部 今天下午停水",
    "created": "好的，已建立计划 {id}：{when} 向{target}推送{kind}{holiday}。下次发送：{next}。"
               "可以用 /暂停计划 {id} 或 /取消计划 {id} 管理。",
    "created_never": "好的，已建立计划 {id}，不过按这个时间它不会再发送了，请检查时间。",
    "list_empty": "现在没有推送计划。可以用 /定时 建立，" + EXAMPLE_COMMAND,
    "list_head": "推送计划（共{n}个）：",
    "list_line": "{id}. {when}{holiday} {kind} → {target}{extra}　下次：{next}",
    "holiday_created": "，节假日不发",
    "holiday_mark": "（节假日不发）",
    "paused_mark": "（已暂停）",
    "config_mark": "（配置文件）",
    "no_next": "无",
    "ask_id": "请写上计划编号，例如：/{command} 3。发送 /计划 可以看到所有编号。",
    "not_found": "没有编号为 {id} 的计划。发送 /计划 可以看到所有编号。",
    "config_cancel": "计划 {id} 写在配置文件 config.yaml 里，请在那里删除；现在可以先用 /暂停计划 {id} 暂停它。",
    "cancelled": "计划 {id} 已取消。",
    "paused": "计划 {id} 已暂停，用 /恢复计划 {id} 可以恢复。",
    "resumed": "计划 {id} 已恢复，下次发送：{next}。",
    "announce_usage": "用法：/公告 要发的内容 [目标]，例如：/公告 今天下午2点到5点停水，请提前储水。 居民群",
    "antifraud_usage": "用法：/反诈 [类型] [目标]，例如：/反诈 冒充公检法 居民群。类型有：" + "、".join(FRAUD_TYPES)
                       + "。管理提醒：/反诈 新增 类型 文字、/反诈 列表 [类型]、/反诈 删除 编号。",
    "no_notice": "现在没有可以推送的{type}反诈提醒（都停用或删除了）。发 /反诈 列表{arg} 看看，可以新增或启用。",
    "queued": "好的，正在向 {n} 个群推送{kind}，发完后告诉您结果。",
    "queued_quiet": "好的，现在是休息时间，{kind}会在 {at} 开始向 {n} 个群推送，发完后告诉您结果。",
    "nothing_queued": "这些群已经推送过了，没有重复发送。",
    "summary_ok": "推送完成：已推送 {sent}/{total} 个群。",
    "summary_failed": "推送完成：已推送 {sent}/{total} 个群。没有发出去的群：{failed}。可以稍后再推送一次。",
    "summary_uncertain": "另外 {uncertain} 因为机器人重启，不确定是否收到，请到群里看一下。",
}


def _categories_text() -> str:
    return "、".join(CATEGORIES.values())


def _target_label(target: str) -> str:
    return CATEGORIES.get(target, target)


def _fmt(when: dt.datetime | None, app: App) -> str:
    return f"{when.astimezone(app.clock.tz):%Y-%m-%d %H:%M}" if when else TEXTS["no_next"]




def next_fire(app: App, row: PushScheduleRow, start: dt.datetime | None = None) -> dt.datetime | None:
    """The next time the schedule really sends: fire times on days it stays silent are passed over."""
    tz = app.clock.tz
    when = schedules.stored_when(row.when, tz)
    trigger = when.trigger(tz)
    fire = trigger.get_next_fire_time(None, start or app.clock.now())
    for _ in range(400):  # more than a year of daily fires; 春节 and 国庆 are a week at most
        if fire is None or not skips_day(app, when.workdays_only, row.skip_holidays, fire.astimezone(tz).date()):
            return fire
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return None


# ---------------------------------------------------------------- start


@plugin.on_start
async def start(app: App) -> None:
    await schedules.sync_schedules(app)


# ---------------------------------------------------------------- the scheduled job


@plugin.job(schedules.JOB_KIND)
async def run_schedule(app: App, payload: dict[str, Any], due: dt.datetime) -> None:
    schedule_id = payload["schedule"]
    async with app.sessions.begin() as session:
        row = await session.get(PushScheduleRow, (app.name, schedule_id))
        if row is None or row.paused:
            return
        when = schedules.stored_when(row.when, app.clock.tz)
        day = due.astimezone(app.clock.tz).date()
        if skips_day(app, when.workdays_only, row.skip_holidays, day):
            log.info("push skipped: not a working day", extra={"schedule": schedule_id, "day": day.isoformat()})
            return
        groups = resolve_target(app.directory, row.target)
        if not groups:
            log.warning("push target names no categorised group", extra={"schedule": schedule_id,
                                                                          "target": row.target})
            return
        result = await push_to_groups(
            app, session, groups=groups, kind=row.kind, text=row.text, notice_type=row.notice_type,
            dedup_prefix=f"push:{schedule_id}:{due.isoformat()}", log_as=schedule_id, due=due)
        if when.kind == "once":
            await session.delete(row)
    log.info("push queued", extra={"schedule": schedule_id, "due": due.isoformat(),
                                   "groups": len(groups), "queued": result.queued})


# ---------------------------------------------------------------- /定时 and friends


@plugin.command("定时", roles=STAFF, summary="建立定时推送（时间写“工作日”则周末和节假日都不发）",
                usage="时间 反诈|公告|警务动态 目标 [文字] [节假日不发]")
async def create_schedule(ctx: Context) -> None:
    if not ctx.rest:
        await ctx.reply(TEXTS["usage"])
        return
    try:
        when, parts, skip_holidays = _read_schedule(ctx)
    except TimeExprError as exc:
        ctx.outcome = "refused: time"
        await ctx.reply(str(exc))
        return
    if len(parts) < 2:
        await ctx.reply(TEXTS["usage"])
        return
    kind = KIND_WORDS.get(parts[0])
    if kind is None:
        await ctx.reply(TEXTS["holiday_usage" if _sounds_like_holidays(parts[0]) else "bad_kind"].format(word=parts[0]))
        return
    target, text = parts[1], (parts[2].strip() if len(parts) > 2 else None)
    if resolve_target(ctx.app.directory, target) is None and _sounds_like_holidays(target):
        await ctx.reply(TEXTS["holiday_usage"])
        return
    if not await _check_target(ctx, target):
        return
    notice_type = None
    if kind == "antifraud" and text:
        notice_type, text = fraud_type(text), None
        if notice_type is None:
            word = parts[2].strip()
            await ctx.reply(TEXTS["holiday_usage"] if _sounds_like_holidays(word)
                            else TEXTS["bad_notice_type"].format(word=word))
            return
    elif kind != "antifraud" and not text:
        await ctx.reply(TEXTS["need_text"])
        return
    if when.kind == "once" and skip_holidays and skips_day(ctx.app, False, True, when.run_date.date()):
        await ctx.reply(TEXTS["holiday_once"].format(day=f"{when.run_date:%Y-%m-%d}"))
        return
    row = PushScheduleRow(
        bot=ctx.app.name, id=await schedules.next_chat_id(ctx.session, ctx.app.name), when=when.describe(),
        kind=kind, target=target, text=text, notice_type=notice_type, skip_holidays=skip_holidays,
        created_by=ctx.sender.id, created_at=ctx.now, paused=False, source="chat")
    ctx.session.add(row)
    await ctx.session.flush()
    await schedules.register(ctx.app, row, session=ctx.session)
    nxt = next_fire(ctx.app, row)
    if nxt is None:
        await ctx.reply(TEXTS["created_never"].format(id=row.id))
        return
    await ctx.reply(TEXTS["created"].format(id=row.id, when=row.when, target=_target_label(target),
                                            kind=PUSH_KINDS[kind], next=_fmt(nxt, ctx.app),
                                            holiday=TEXTS["holiday_created"] if skip_holidays else ""))


def _read_schedule(ctx: Context) -> tuple[When, list[str], bool]:
    """The time, then kind, target and text as typed, and whether 节假日不发 was said (last, or after the time)."""
    command, at_end = _without_last_holiday_flag(ctx.rest)
    when, rest = split_when(command, ctx.now, ctx.app.clock.tz)
    command, rest, after_time = _without_holiday_flag_after_time(command, rest)
    return when, _verbatim_tail(command, rest), at_end or after_time


def _without_last_holiday_flag(command: str) -> tuple[str, bool]:
    """"每周五 16:00 反诈 居民群 节假日不发" -> ("每周五 16:00 反诈 居民群", True)."""
    head, _, last = command.rstrip().rpartition(" ")
    if head.strip() and HOLIDAY_FLAG.fullmatch(last.strip()):
        return head.rstrip(), True
    return command, False


def _without_holiday_flag_after_time(command: str, rest: str) -> tuple[str, str, bool]:
    """"每周五 16:00 节假日不发 反诈 居民群": take the flag out of the command and of the rest after the time."""
    first, _, after = rest.partition(" ")
    if not HOLIDAY_FLAG.fullmatch(first):
        return command, rest, False
    consumed = len(command.split()) - len(rest.split())
    words = command.split(maxsplit=consumed + 1)
    return " ".join(words[:consumed] + words[consumed + 1:]), after.strip(), True


def _sounds_like_holidays(word: str) -> bool:
    return "假日" in word or "节日" in word


def _verbatim_tail(original: str, normalized_rest: str) -> list[str]:
    """Kind, target and text as the officer typed them (split_when hands back normalised text,
    which would turn a full-width "，" in an announcement into ","))."""
    consumed = len(original.split()) - len(normalized_rest.split())
    if consumed <= 0:
        return normalized_rest.split(maxsplit=2)
    return original.split(maxsplit=consumed + 2)[consumed:]


async def _check_target(ctx: Context, target: str) -> bool:
    groups = resolve_target(ctx.app.directory, target)
    if groups is None:
        await ctx.reply(TEXTS["bad_target"].format(target=target, categories=_categories_text()))
        return False
    if not groups:
        await ctx.reply(TEXTS["no_groups"].format(target=target))
        return False
    return True


@plugin.command("计划", roles=STAFF, summary="查看推送计划")
async def list_schedules(ctx: Context) -> None:
    rows = await schedules.all_rows(ctx.session, ctx.app.name)
    if not rows:
        await ctx.reply(TEXTS["list_empty"])
        return
    lines = [TEXTS["list_head"].format(n=len(rows))]
    for r in rows:
        extra = (TEXTS["config_mark"] if r.source == "config" else "") + (TEXTS["paused_mark"] if r.paused else "")
        job_next = None if r.paused else ctx.app.scheduler.next_run(schedules.job_id(r.id))
        nxt = next_fire(ctx.app, r, start=job_next) if job_next else None
        lines.append(TEXTS["list_line"].format(id=r.id, when=r.when, kind=PUSH_KINDS[r.kind],
                                               target=_target_label(r.target), extra=extra,
                                               holiday=TEXTS["holiday_mark"] if r.skip_holidays else "",
                                               next=_fmt(nxt, ctx.app)))
    await ctx.reply("\n".join(lines))


async def _row_from_args(ctx: Context, command: str) -> PushScheduleRow | None:
    if not ctx.args:
        await ctx.reply(TEXTS["ask_id"].format(command=command))
        return None
    row = await ctx.session.get(PushScheduleRow, (ctx.app.name, ctx.args[0]))
    if row is None:
        await ctx.reply(TEXTS["not_found"].format(id=ctx.args[0]))
        ctx.outcome = "refused: unknown id"
    return row


@plugin.command("取消计划", roles=STAFF, summary="取消推送计划", usage="编号")
async def cancel_schedule(ctx: Context) -> None:
    row = await _row_from_args(ctx, "取消计划")
    if row is None:
        return
    if row.source == "config":
        await ctx.reply(TEXTS["config_cancel"].format(id=row.id))
        return
    await ctx.session.delete(row)
    await ctx.app.scheduler.remove(schedules.job_id(row.id), session=ctx.session)
    await ctx.reply(TEXTS["cancelled"].format(id=row.id))


@plugin.command("暂停计划", roles=STAFF, summary="暂停推送计划", usage="编号")
async def pause_schedule(ctx: Context) -> None:
    row = await _row_from_args(ctx, "暂停计划")
    if row is None:
        return
    row.paused = True
    await ctx.app.scheduler.pause(schedules.job_id(row.id), session=ctx.session)
    await ctx.reply(TEXTS["paused"].format(id=row.id))


@plugin.command("恢复计划", roles=STAFF, summary="恢复推送计划", usage="编号")
async def resume_schedule(ctx: Context) -> None:
    row = await _row_from_args(ctx, "恢复计划")
    if row is None:
        return
    row.paused = False
    await schedules.register(ctx.app, row, replace=False, session=ctx.session)
    nxt = next_fire(ctx.app, row)
    await ctx.reply(TEXTS["resumed"].format(id=row.id, next=_fmt(nxt, ctx.app)))


# ---------------------------------------------------------------- push now


@plugin.command("公告", aliases=("警务动态",), roles=STAFF, summary="马上推送公告", usage="文字 [目标]")
async def announce_now(ctx: Context) -> None:
    parsed = parse_command(ctx.text)
    kind = "police_news" if parsed is not None and parsed.name == "警务动态" else "announcement"
    text, target = _split_trailing_target(ctx, ctx.rest)
    if not text:
        await ctx.reply(TEXTS["announce_usage"])
        return
    await _push_now(ctx, kind, target, text=text)


@plugin.command("反诈", roles=STAFF, summary="马上推送一条反诈提醒，或管理提醒库",
                usage="[类型] [目标] | 新增 类型 文字 | 列表 [类型] | 删除|停用|启用 编号")
async def antifraud_now(ctx: Context) -> None:
    args = list(ctx.args)
    if args and args[0] in SUBCOMMANDS:
        await notice_commands.handle(ctx)
        return
    notice_type = fraud_type(args[0]) if args else None
    if notice_type:
        args.pop(0)
    if len(args) > 1 or (args and resolve_target(ctx.app.directory, args[0]) is None):
        await ctx.reply(TEXTS["antifraud_usage"])
        return
    if not await notice_commands.has_notice(ctx, notice_type):
        ctx.outcome = "refused: no notice"
        await ctx.reply(TEXTS["no_notice"].format(type=notice_type or "", arg=f" {notice_type}" if notice_type else ""))
        return
    await _push_now(ctx, "antifraud", args[0] if args else DEFAULT_TARGET, notice_type=notice_type)


def _split_trailing_target(ctx: Context, rest: str) -> tuple[str, str]:
    """"停水通知 居民群" -> ("停水通知", "居民群"); without a known target at the end, the default."""
    head, _, last = rest.rstrip().rpartition(" ")
    if head.strip() and resolve_target(ctx.app.directory, last) is not None:
        return head.strip(), last
    return rest.strip(), DEFAULT_TARGET


async def _push_now(ctx: Context, kind: str, target: str, *, text: str | None = None,
                    notice_type: str | None = None) -> None:
    if not await _check_target(ctx, target):
        return
    app = ctx.app
    groups = resolve_target(app.directory, target)
    batch = f"now:{ctx.message.id}"
    result = await push_to_groups(app, ctx.session, groups=groups, kind=kind, text=text, notice_type=notice_type,
                                  dedup_prefix=f"push:{batch}", log_as=batch, due=ctx.now)
    if not result.queued:
        await ctx.reply(TEXTS["nothing_queued"])
        return
    start = quiet_end(ctx.now, app.config.quiet_hours.start, app.config.quiet_hours.end)
    key = "queued" if start == ctx.now else "queued_quiet"
    await ctx.reply(TEXTS[key].format(n=result.queued, kind=PUSH_KINDS[kind], at=_fmt(start, app)))
    pace = app.config.outbox.min_interval_seconds + app.config.outbox.jitter_seconds
    check_at = start + dt.timedelta(seconds=pace * result.queued) + dt.timedelta(minutes=1)
    summary = {"batch": batch, "officer": ctx.sender.id, "rooms": [g.id for g in groups],
               "checks": 0}
    await _schedule_summary(app, summary, check_at, ctx.session)


# ---------------------------------------------------------------- the summary after a push now


async def _schedule_summary(app: App, payload: dict[str, Any], at: dt.datetime, session) -> None:
    await app.scheduler.add_once(f"push-summary:{payload['batch']}:{payload['checks']}", "push-summary", payload, at,
                           grace=dt.timedelta(days=2), session=session)


@plugin.job("push-summary")
async def summarize(app: App, payload: dict[str, Any], due: dt.datetime) -> None:
    """Tell the officer how the push went once every group's row is sent, failed or uncertain."""
    prefix = f"push:{payload['batch']}:"
    async with app.sessions.begin() as session:
        rows = (await session.execute(select(OutboxMessage.dedup_key, OutboxMessage.status).where(
            OutboxMessage.bot == app.name, OutboxMessage.dedup_key.like(prefix + "%")))).all()
        status: dict[str, str] = {}
        for key, state in rows:
            room = key[len(prefix):].split("#", 1)[0]
            status[room] = _worse(status.get(room), state)
        if any(s in ("pending", "sending") for s in status.values()) and payload["checks"] < SUMMARY_MAX_CHECKS:
            again = {**payload, "checks": payload["checks"] + 1}
            await _schedule_summary(app, again, app.clock.now() + SUMMARY_RECHECK, session)
            return
        total = len(payload["rooms"])
        sent = sum(1 for r in payload["rooms"] if status.get(r) == "sent")
        failed = [_room_name(app, r) for r in payload["rooms"] if status.get(r) not in ("sent", "uncertain")]
        uncertain = [_room_name(app, r) for r in payload["rooms"] if status.get(r) == "uncertain"]
        text = (TEXTS["summary_failed"].format(sent=sent, total=total, failed="、".join(failed)) if failed
                else TEXTS["summary_ok"].format(sent=sent, total=total))
        if uncertain:
            text += TEXTS["summary_uncertain"].format(uncertain="、".join(uncertain))
        await app.outbox.enqueue(session, Outgoing(None, payload["officer"], text), source="push-summary")


_SEVERITY = {None: -1, "sent": 0, "uncertain": 1, "pending": 2, "sending": 2, "failed": 3}


def _worse(a: str | None, b: str) -> str:
    return b if _SEVERITY.get(b, 3) > _SEVERITY.get(a, -1) else a  # type: ignore[return-value]


def _room_name(app: App, room_id: str) -> str:
    group = app.directory.group(room_id)
    return group.name if group else room_id


