"""Officers' schedule commands: /定时 creates one, /计划 lists them, and one by its number:

    /取消计划 3   /暂停计划 3   /恢复计划 3

Each writes the schedule's row and its scheduler job in the command's own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.context import Context
from bot.plugin import STAFF
from bot.quiet import in_quiet_hours
from handlers.pushes import schedules
from handlers.pushes.config import PUSH_KINDS
from handlers.pushes.plugin import plugin
from handlers.pushes.schedule_words import ScheduleRequest, read_schedule
from handlers.pushes.texts import TEXTS, Refusal, target_label, time_text
from handlers.pushes.timeexpr import TimeExprError
from storage.pushes import PushScheduleRow

# ---------------------------------------------------------------- /定时


@plugin.command("定时", roles=STAFF, summary="建立定时推送（时间写“工作日”则周末和节假日都不发）",
                usage="时间 反诈|公告|警务动态 目标 [文字] [节假日不发]")
async def create_schedule(ctx: Context) -> None:
    if not ctx.rest:
        await ctx.reply(TEXTS["usage"])
        return
    app = ctx.app
    try:
        request = read_schedule(ctx.rest, ctx.now, app.clock.tz, app.directory, schedules.push_calendar(app))
    except TimeExprError as exc:
        ctx.outcome = "refused: time"
        await ctx.reply(str(exc))
        return
    except Refusal as refusal:
        await ctx.reply(refusal.text)
        return
    refusal = await _clash(ctx, request)
    if refusal is not None:
        ctx.outcome = f"refused: {refusal.key}"
        await ctx.reply(refusal.text)
        return
    row = await _save(ctx, request)
    nxt = schedules.next_send(app, row)
    if nxt is None:
        await ctx.reply(TEXTS["created_never"].format(id=row.id))
        return
    await ctx.reply(TEXTS["created"].format(id=row.id, when=row.when, target=target_label(row.target),
                                            kind=PUSH_KINDS[row.kind], next=time_text(nxt, app.clock.tz),
                                            holiday=TEXTS["holiday_created"] if row.skip_holidays else ""))


async def _clash(ctx: Context, request: ScheduleRequest) -> Refusal | None:
    """Why this schedule would not do what the officer expects: it repeats an existing one (same
    time, kind and groups; config.yaml's included), or its time falls in quiet hours, when the
    outbox would hold it until morning. None: it can be saved."""
    app = ctx.app
    quiet = app.config.quiet_hours
    at = dt.datetime.combine(ctx.now.date(), dt.time(request.when.hour, request.when.minute), app.clock.tz)
    if in_quiet_hours(at, quiet.start, quiet.end):
        return Refusal("in_quiet_hours", when=request.when.describe(), start=f"{quiet.start:%H:%M}",
                       end=f"{quiet.end:%H:%M}")
    same = await schedules.duplicate_of(app, ctx.session, request.when.describe(), request.kind, request.target,
                                        request.text)
    if same is not None:
        return Refusal("duplicate", id=same.id, when=same.when, kind=PUSH_KINDS[same.kind],
                       target=target_label(same.target),
                       where=_source_mark(same))
    return None


async def _save(ctx: Context, request: ScheduleRequest) -> PushScheduleRow:
    """The schedule's row and its job, in the command's transaction."""
    row = PushScheduleRow(
        bot=ctx.app.name, id=await schedules.next_chat_id(ctx.session, ctx.app.name), when=request.when.describe(),
        kind=request.kind, target=request.target, text=request.text, notice_type=request.notice_type,
        skip_holidays=request.skip_holidays, created_by=ctx.sender.id, created_at=ctx.now, paused=False,
        source="chat")
    ctx.session.add(row)
    await ctx.session.flush()
    await schedules.register(ctx.app, row, session=ctx.session)
    return row


# ---------------------------------------------------------------- /计划


@plugin.command("计划", roles=STAFF, summary="查看推送计划")
async def list_schedules(ctx: Context) -> None:
    rows = await schedules.all_rows(ctx.session, ctx.app.name)
    if not rows:
        await ctx.reply(TEXTS["list_empty"])
        return
    lines = [TEXTS["list_head"].format(n=len(rows))]
    lines += [_listing_line(ctx, r) for r in rows]
    await ctx.reply("\n".join(lines))


def _listing_line(ctx: Context, row: PushScheduleRow) -> str:
    app = ctx.app
    extra = _source_mark(row) + (TEXTS["paused_mark"] if row.paused else "")
    job_next = None if row.paused else app.scheduler.next_run(schedules.job_id(row.id))
    nxt = schedules.next_send(app, row, start=job_next) if job_next else None
    return TEXTS["list_line"].format(id=row.id, when=row.when, kind=PUSH_KINDS[row.kind],
                                     target=target_label(row.target), extra=extra,
                                     holiday=TEXTS["holiday_mark"] if row.skip_holidays else "",
                                     next=time_text(nxt, app.clock.tz))


def _source_mark(row: PushScheduleRow) -> str:
    return {"config": TEXTS["config_mark"], "district": TEXTS["district_mark"]}.get(row.source, "")


# ---------------------------------------------------------------- one schedule by its number


ScheduleHandler = Callable[[Context, PushScheduleRow], Awaitable[None]]


def on_one_schedule(name: str, summary: str) -> Callable[[ScheduleHandler], ScheduleHandler]:
    """`/暂停计划 3`: a command on one schedule, named by its number (or a config id, "weekly").

    The command takes the first word as the number, as it always has; without one, or with one
    no schedule has, the officer is told how to find it and the handler does not run."""

    def register(handler: ScheduleHandler) -> ScheduleHandler:
        @plugin.command(name, roles=STAFF, summary=summary, usage="编号")
        async def run(ctx: Context) -> None:
            if not ctx.args:
                await ctx.reply(TEXTS["ask_id"].format(command=name))
                return
            row = await ctx.session.get(PushScheduleRow, (ctx.app.name, ctx.args[0]))
            if row is None:
                await ctx.reply(TEXTS["not_found"].format(id=ctx.args[0]))
                ctx.outcome = "refused: unknown id"
                return
            await handler(ctx, row)

        return handler

    return register


@on_one_schedule("取消计划", summary="取消推送计划")
async def cancel_schedule(ctx: Context, row: PushScheduleRow) -> None:
    if row.source in ("config", "district"):
        await ctx.reply(TEXTS[f"{row.source}_cancel"].format(id=row.id))
        return
    await ctx.session.delete(row)
    await ctx.app.scheduler.remove(schedules.job_id(row.id), session=ctx.session)
    await ctx.reply(TEXTS["cancelled"].format(id=row.id))


@on_one_schedule("暂停计划", summary="暂停推送计划")
async def pause_schedule(ctx: Context, row: PushScheduleRow) -> None:
    row.paused = True
    await ctx.app.scheduler.pause(schedules.job_id(row.id), session=ctx.session)
    await ctx.reply(TEXTS["paused"].format(id=row.id))


@on_one_schedule("恢复计划", summary="恢复推送计划")
async def resume_schedule(ctx: Context, row: PushScheduleRow) -> None:
    row.paused = False
    await schedules.register(ctx.app, row, replace=False, session=ctx.session)
    nxt = schedules.next_send(ctx.app, row)
    await ctx.reply(TEXTS["resumed"].format(id=row.id, next=time_text(nxt, ctx.app.clock.tz)))
