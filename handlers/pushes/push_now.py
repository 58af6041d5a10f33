"""Pushing now: `/公告 文字 [目标]`, `/警务动态 文字 [目标]`, `/反诈 [类型] [目标]`, and the summary
the officer gets once every group's message is sent, failed or uncertain.

`/反诈` is also the notice library's command: its subcommands (新增, 列表 ...) are declared in
notice_commands.py; this handler runs when the first word is none of their verbs.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.context import Context
from bot.messages import Outgoing
from bot.plugin import STAFF
from bot.quiet import quiet_end
from handlers.pushes.config import PUSH_KINDS
from handlers.pushes.delivery import has_notice, push_to_groups
from handlers.pushes.notices import fraud_type
from handlers.pushes.outcome import PushOutcome
from handlers.pushes.plugin import plugin
from handlers.pushes.targets import (
    DEFAULT_TARGET, groups_text, resolve_target, split_trailing_target, target_groups,
)
from handlers.pushes.texts import TEXTS, Refusal, categories_text, time_text
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.app import App

SUMMARY_JOB = "push-summary"
SUMMARY_RECHECK = dt.timedelta(minutes=5)
SUMMARY_MAX_CHECKS = 60  # five hours of re-checks, enough for a night's quiet hours


@plugin.command("公告", aliases=("警务动态",), roles=STAFF, summary="马上推送公告", usage="文字 [目标]")
async def announce_now(ctx: Context) -> None:
    kind = "police_news" if ctx.command_word == "警务动态" else "announcement"
    try:
        text, target = split_trailing_target(ctx.app.directory, ctx.rest)
    except Refusal as refusal:
        ctx.outcome = "refused: target"
        await ctx.reply(refusal.text)
        return
    if not text:
        await ctx.reply(TEXTS["announce_usage"])
        return
    await _push_now(ctx, kind, target, text=text)


@plugin.command("反诈", roles=STAFF, summary="马上推送一条反诈提醒", usage="[类型] [目标]")
async def antifraud_now(ctx: Context) -> None:
    args = list(ctx.args)
    notice_type = fraud_type(args[0]) if args else None
    if notice_type:
        args.pop(0)
    if len(args) == 1 and resolve_target(ctx.app.directory, args[0]) is None:
        ctx.outcome = "refused: target"  # a type or a group that does not exist: say which are valid
        await ctx.reply(TEXTS["bad_antifraud_word"].format(word=args[0], categories=categories_text(),
                                                           groups=groups_text(ctx.app.directory)))
        return
    if len(args) > 1:
        await ctx.reply(TEXTS["antifraud_usage"])
        return
    if not await has_notice(ctx.app, ctx.session, notice_type):
        ctx.outcome = "refused: no notice"
        await ctx.reply(TEXTS["no_notice"].format(type=notice_type or "", arg=f" {notice_type}" if notice_type else ""))
        return
    await _push_now(ctx, "antifraud", args[0] if args else DEFAULT_TARGET, notice_type=notice_type)


async def _push_now(ctx: Context, kind: str, target: str, *, text: str | None = None,
                    notice_type: str | None = None) -> None:
    app = ctx.app
    try:
        groups = target_groups(app.directory, target)
    except Refusal as refusal:
        await ctx.reply(refusal.text)
        return
    batch = f"now:{ctx.message.id}"
    now = ctx.now  # read the clock once: a real clock has moved on by the next read
    result = await push_to_groups(app, ctx.session, groups=groups, kind=kind, text=text, notice_type=notice_type,
                                  dedup_prefix=f"push:{batch}", log_as=batch, due=now)
    if not result.queued:
        await ctx.reply(TEXTS["nothing_queued"])
        return
    start = quiet_end(now, app.config.quiet_hours.start, app.config.quiet_hours.end)
    key = "queued" if start == now else "queued_quiet"
    await ctx.reply(TEXTS[key].format(n=result.queued, kind=PUSH_KINDS[kind], at=time_text(start, app.clock.tz)))
    pace = app.config.outbox.min_interval_seconds + app.config.outbox.jitter_seconds
    check_at = start + dt.timedelta(seconds=pace * result.queued) + dt.timedelta(minutes=1)
    summary = {"batch": batch, "officer": ctx.sender.id, "rooms": [g.id for g in groups], "checks": 0}
    await _schedule_summary(app, summary, check_at, ctx.session)


# ---------------------------------------------------------------- the summary after a push now


async def _schedule_summary(app: App, payload: dict[str, Any], at: dt.datetime, session) -> None:
    await app.scheduler.add_once(f"{SUMMARY_JOB}:{payload['batch']}:{payload['checks']}", SUMMARY_JOB, payload, at,
                                 grace=dt.timedelta(days=2), session=session)


@plugin.job(SUMMARY_JOB)
async def summarize(app: App, payload: dict[str, Any], due: dt.datetime) -> None:
    """Tell the officer how the push went once every group's row is sent, failed or uncertain."""
    prefix = f"push:{payload['batch']}:"
    async with app.transaction() as session:
        rows = (await session.execute(select(OutboxMessage.dedup_key, OutboxMessage.status).where(
            OutboxMessage.bot == app.name, OutboxMessage.dedup_key.like(prefix + "%")))).all()
        outcome = PushOutcome.of(payload["rooms"], prefix, rows)
        if outcome.waiting and payload["checks"] < SUMMARY_MAX_CHECKS:
            again = {**payload, "checks": payload["checks"] + 1}
            await _schedule_summary(app, again, app.clock.now() + SUMMARY_RECHECK, session)
            return
        text = outcome.summary(lambda room_id: _room_name(app, room_id))
        await app.send(session, Outgoing(None, payload["officer"], text), source=SUMMARY_JOB)


def _room_name(app: App, room_id: str) -> str:
    group = app.directory.group(room_id)
    return group.name if group else room_id
