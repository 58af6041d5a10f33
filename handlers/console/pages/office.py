"""The registers as files, the audit log, the groups and their categories."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.config import CATEGORIES
from handlers.console import accounts as account_store
from handlers.console.actions import may
from handlers.console.pages.common import act, form, page, refuse_page_unless, refuse_unless, state_of, who
from storage.console import account_of
from storage.models import AuditEntry


async def registers_page(request: web.Request) -> web.Response:
    refuse_page_unless(request, "registers")
    from storage.registers import REGISTERS

    app = state_of(request).app
    today = app.clock.now().astimezone(app.clock.tz).date()
    return await page(request, "registers.html", registers=REGISTERS.values(),
                      start=today.replace(day=1).isoformat(), end=today.isoformat(),
                      may_export=may(app, request["account"].role, "预约", "导出"))


async def register_download(request: web.Request) -> web.Response:
    from handlers.console.lookups import register_file

    refuse_unless(request, "预约", "导出")  # the registers hold residents' names: staff and officers
    q = request.query
    try:
        start, end = date.fromisoformat(q.get("from", "")), date.fromisoformat(q.get("to", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="日期格式应为 2026-12-01") from None
    if start > end or q.get("format") not in ("csv", "xlsx") or q.get("register") not in ("reception", "dispute"):
        raise web.HTTPBadRequest(text="起止日期、登记簿或格式不对")
    account = request["account"]
    name, body = await register_file(state_of(request).app, account.name, account.role, q["register"],
                                     start, end, q["format"])
    from urllib.parse import quote

    kind = "text/csv" if q["format"] == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(body=body, headers={"Content-Type": kind, "Cache-Control": "no-store",
                                            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


# ---- the audit log ---------------------------------------------------------------------------

async def audit_page(request: web.Request) -> web.Response:
    from sqlalchemy import select

    app = state_of(request).app
    refuse_page_unless(request, "audit")
    tz = app.clock.tz
    async with app.sessions() as db:
        rows = (await db.execute(select(AuditEntry).where(AuditEntry.bot == app.name)
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(200))).scalars()
        entries = [{"at": f"{r.at.astimezone(tz):%m-%d %H:%M}", "who": _actor(app, r.actor_id),
                    "role": ROLE_LABELS.get(r.actor_role, r.actor_role),
                    "command": r.command, "args": r.args, "outcome": r.outcome} for r in rows]
    return await page(request, "audit.html", entries=entries)


def _role_labels() -> dict[str, str]:
    from bot.router import ROLE_NAMES

    return {**ROLE_NAMES, "district": account_store.ROLE_NAMES["district"]}


ROLE_LABELS = _role_labels()


def _actor(app, actor_id_: str) -> str:
    if account := account_of(actor_id_):
        return f"{account}（工作台）"
    return who(app, actor_id_)


# ---- groups and their categories ---------------------------------------------------------------

async def groups_page(request: web.Request) -> web.Response:
    refuse_page_unless(request, "groups")
    app = state_of(request).app
    groups = sorted(app.directory.groups.values(), key=lambda g: (g.category or "~", g.name))
    return await page(request, "groups.html", categories=CATEGORIES, groups=[
        {"name": g.name, "category": g.category or "", "members": g.member_count} for g in groups],
        may_set=may(app, request["account"].role, "群", "类别"))


async def group_category(request: web.Request) -> web.Response:
    refuse_unless(request, "群", "类别")
    data = await form(request)
    name, value = str(data.get("name", "")).strip(), str(data.get("category", "")).strip()
    return await act(request, f"/群 类别 {name} {value}", "groups")
