"""Logging in and out; every attempt on an existing account is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp_session import get_session

from handlers.console import accounts as account_store
from handlers.console.actions import actor_id
from handlers.console.pages.common import form, page, state_of
from handlers.console.security import start_session
from handlers.console.texts import TEXTS
from storage.models import AuditEntry


async def login_page(request: web.Request) -> web.Response:
    return await page(request, "login.html")


async def login_post(request: web.Request) -> web.Response:
    state = state_of(request)
    data = await form(request)
    name, password = str(data.get("name", "")).strip(), str(data.get("password", ""))
    now = state.app.clock.now()
    settings = state.settings
    async with state.app.sessions.begin() as db:
        result = await account_store.login(db, state.app.name, name, password, now, max_failures=settings.max_failures,
                                           lock=timedelta(minutes=settings.lock_minutes))
        outcome = "ok" if result.account else ("refused: locked" if result.locked else "refused: password")
        known = result.account or await account_store.get_account(db, state.app.name, name)
        if known is not None:  # a name no account has is not written down (it may be a typed password)
            db.add(AuditEntry(bot=state.app.name, at=now, actor_id=actor_id(name)[:128], actor_role=known.role,
                              room_id=None, command="控制台 登录", args="", outcome=outcome))
    if result.locked:
        return await page(request, "login.html", status=429, error=TEXTS["locked"].format(minutes=settings.lock_minutes),
                          name=name)
    if result.account is None:
        return await page(request, "login.html", status=401, error=TEXTS["bad_password"], name=name)
    await start_session(request, result.account, now.timestamp())
    raise web.HTTPSeeOther(state.prefix)


async def logout(request: web.Request) -> web.Response:
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther(f"{state_of(request).prefix}login")
