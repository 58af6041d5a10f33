"""Schedules and the notice library: the commands' own listings, and their verbs as buttons."""

from __future__ import annotations

from aiohttp import web

from handlers.console.actions import ActionResult, may, read_as
from handlers.console.pages.common import act, flash, form, page, refuse_page_unless, refuse_unless, state_of
from handlers.console.texts import TEXTS


SCHEDULE_VERBS = {"pause": "暂停计划", "resume": "恢复计划", "cancel": "取消计划"}
NOTICE_VERBS = {"disable": "停用", "enable": "启用", "delete": "删除"}


async def schedules_page(request: web.Request) -> web.Response:
    """`?type=冒充公检法`: that type's notices one by one, with the numbers the buttons need."""
    refuse_page_unless(request, "schedules")
    from handlers.pushes.notices import FRAUD_TYPES

    app, account = state_of(request).app, request["account"]
    shown_type = request.query.get("type", "")
    shown_type = shown_type if shown_type in FRAUD_TYPES else ""
    listing = notices = ""
    if may(app, account.role, "计划"):
        listing = await read_as(app, account.name, account.role, "/计划")
    if may(app, account.role, "反诈", "列表"):
        notices = await read_as(app, account.name, account.role, f"/反诈 列表 {shown_type}".strip())
    return await page(request, "schedules.html", listing=listing, notices=notices, fraud_types=FRAUD_TYPES,
                      shown_type=shown_type,
                      may_create=may(app, account.role, "定时"), may_add=may(app, account.role, "反诈", "新增"),
                      may_manage=may(app, account.role, "暂停计划"),
                      may_notices=may(app, account.role, "反诈", "停用"))


async def schedule_action(request: web.Request) -> web.Response:
    data = await form(request)
    kind, action = request.match_info["kind"], request.match_info["action"]
    written = " ".join(str(data.get("text", "")).split())
    if action == "create" and kind in ("schedule", "notice"):
        if not written:
            await flash(request, ActionResult([TEXTS["empty_answer"]], "usage"))
            raise web.HTTPSeeOther(f"{state_of(request).prefix}schedules")
        if kind == "schedule":  # `/定时 每周五 16:00 反诈 居民群 节假日不发`, as typed in chat
            refuse_unless(request, "定时")
            return await act(request, f"/定时 {written}", "schedules")
        refuse_unless(request, "反诈", "新增")
        return await act(request, f"/反诈 新增 {str(data.get('type', '')).strip()} {written}", "schedules")
    number = str(data.get("id", "")).strip()
    if kind == "schedule" and action in SCHEDULE_VERBS:
        refuse_unless(request, SCHEDULE_VERBS[action])
        return await act(request, f"/{SCHEDULE_VERBS[action]} {number}", "schedules")
    if kind == "notice" and action in NOTICE_VERBS:
        refuse_unless(request, "反诈", NOTICE_VERBS[action])
        return await act(request, f"/反诈 {NOTICE_VERBS[action]} {number}", "schedules")
    raise web.HTTPNotFound()
