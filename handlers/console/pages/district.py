"""For a district account: every bot of the district this week against last (全区统计), and the
bot switcher that chooses whose overview the console shows."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp_session import get_session

from handlers.console.actions import ActionResult
from handlers.console.district import FIGURES, district_overview
from handlers.console.pages.common import bots_of, flash, form, page, refuse_page_unless, state_of
from handlers.console.texts import DISTRICT_TEXTS as D, TEXTS


async def district_page(request: web.Request) -> web.Response:
    refuse_page_unless(request, "district")
    app = state_of(request).app
    today = app.clock.now().astimezone(app.clock.tz).date()
    monday = today - timedelta(days=today.weekday())
    bots = await bots_of(request)
    async with app.sessions() as db:
        this = await district_overview(db, bots, monday, monday + timedelta(days=6))
        last = await district_overview(db, bots, monday - timedelta(days=7), monday - timedelta(days=1))
    keys = [key for key, _ in FIGURES]
    rows = [{"bot": a["bot"], "here": a["bot"] == app.name, "cells": [(a[k], b[k]) for k in keys]}
            for a, b in zip(this, last)]
    total = [(sum(a[k] for a in this), sum(b[k] for b in last)) for k in keys]
    weeks = D["weeks"].format(this=_span(monday, monday + timedelta(days=6)),
                              last=_span(monday - timedelta(days=7), monday - timedelta(days=1)))
    return await page(request, "district.html", d=D, rows=rows, total=total, heads=[D["figures"][k] for k in keys],
                      district=app.district.name if app.district is not None else "", weeks=weeks)


def _span(first, last) -> str:
    return f"{first:%m-%d} 至 {last:%m-%d}"


async def switch_bot(request: web.Request) -> web.Response:
    """The district account looks at another bot; the choice lasts for its session."""
    refuse_page_unless(request, "district")
    chosen = str((await form(request)).get("bot", "")).strip()
    if chosen in await bots_of(request):
        (await get_session(request))["bot"] = chosen
    else:
        await flash(request, ActionResult([TEXTS["unknown_bot"].format(bot=chosen[:32])], "usage"))
    raise web.HTTPSeeOther(state_of(request).prefix)

