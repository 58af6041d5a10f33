"""The console's pages. Lists are read from storage; every action is the chat command run as the
account (handlers.console.actions), so the page can do exactly what the command can."""

from __future__ import annotations

from datetime import date, timedelta

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.config import CATEGORIES
from handlers.console import accounts as account_store
from handlers.console.actions import ActionResult, actor_id, may, read_as, run_as
from handlers.console.security import csrf_token, start_session
from handlers.console.texts import METRICS, NAV, TEXTS, TITLE
from storage import stats
from storage.models import AuditEntry

# Characters of an action's answer kept in the cookie for the next page: the whole cookie must stay
# under the 4 KB browsers keep (600 Chinese characters are 1.8 KB, 2.4 KB encrypted).
FLASH_MAX = 600


def state_of(request: web.Request):
    return request.config_dict["console"]


async def page(request: web.Request, template: str, status: int = 200, **values) -> web.Response:
    """A page with what every page needs: the account, the csrf token, the menu, the flash."""
    state = state_of(request)
    session = await get_session(request)
    account = request.get("account")
    values.update(title=TITLE, t=TEXTS, nav=NAV, prefix=state.prefix, csrf=csrf_token(session),
                  account=account, flash=session.pop("flash", None),
                  role_name=account_store.ROLE_NAMES.get(account.role, "") if account else "",
                  district_note=TEXTS["district_note"].format(bot=state.app.name)
                  if account is not None and account.role == "district" else "")
    return aiohttp_jinja2.render_template(template, request, values, status=status)


async def act(request: web.Request, command: str, back: str) -> web.Response:
    """Run a command as the account, keep its answer for the next page, go back (POST-redirect-GET)."""
    state, account = state_of(request), request["account"]
    result = await run_as(state.app, account.name, account.role, command)
    await flash(request, result)
    raise web.HTTPSeeOther(f"{state.prefix}{back}")


async def flash(request: web.Request, result: ActionResult) -> None:
    session = await get_session(request)
    session["flash"] = {"ok": result.ok, "text": result.text[:FLASH_MAX]}


async def form(request: web.Request) -> dict:
    return dict(await request.post())


def refuse_unless(request: web.Request, command: str, verb: str | None = None) -> None:
    """The page's own check before running (the router checks again, and audits the refusal)."""
    if not may(state_of(request).app, request["account"].role, command, verb):
        raise web.HTTPForbidden(text=TEXTS["no_right"])


# ---- login ---------------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    return await page(request, "login.html")


async def login_post(request: web.Request) -> web.Response:
    state = state_of(request)
    data = await form(request)
    name, password = str(data.get("name", "")).strip(), str(data.get("password", ""))
    now = state.app.clock.now()
    settings = state.settings
    async with state.app.sessions.begin() as db:
        result = await account_store.login(db, name, password, now, max_failures=settings.max_failures,
                                           lock=timedelta(minutes=settings.lock_minutes))
        outcome = "ok" if result.account else ("refused: locked" if result.locked else "refused: password")
        known = result.account or await account_store.get_account(db, name)
        if known is not None:  # a name no account has is not written down (it may be a typed password)
            db.add(AuditEntry(bot=state.app.name, at=now, actor_id=actor_id(name)[:128], actor_role=known.role,
                              room_id=None, command="控制台 登录", args="", outcome=outcome))
    if result.locked:
        return await page(request, "login.html", status=429, error=TEXTS["locked"].format(minutes=settings.lock_minutes),
                          name=name)
    if result.account is None:
        return await page(request, "login.html", status=401, error=TEXTS["bad_password"], name=name)
    await start_session(request, name, now.timestamp())
    raise web.HTTPSeeOther(state.prefix)


async def logout(request: web.Request) -> web.Response:
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther(f"{state_of(request).prefix}login")


# ---- overview ------------------------------------------------------------------------------

async def overview(request: web.Request) -> web.Response:
    from storage import appointments, tips
    from storage.understanding import Consultation, Suggestion, count_open

    app = state_of(request).app
    today = app.clock.now().astimezone(app.clock.tz).date()
    monday = today - timedelta(days=today.weekday())
    async with app.sessions() as db:
        this = await stats.totals(db, app.name, monday, monday + timedelta(days=6))
        last = await stats.totals(db, app.name, monday - timedelta(days=7), monday - timedelta(days=1))
        hours = app.config.tips.overdue_hours if hasattr(app.config, "tips") else 48
        waiting = [
            (TEXTS["open_questions"], await count_open(db, Consultation, app.name), "questions"),
            (TEXTS["open_suggestions"], await count_open(db, Suggestion, app.name), "questions"),
            (TEXTS["open_tips"], await tips.open_count(db, app.name), "tips"),
            (TEXTS["overdue_tips"], await tips.overdue_count(db, app.name, app.clock.now(), hours), "tips"),
            (TEXTS["today_bookings"], len([b for b in await appointments.bookings_of(
                db, app.name, day_from=today, day_to=today, status=appointments.BOOKED)]), "bookings"),
        ]
    rows = [(label, this.get(metric), last.get(metric)) for metric, label in METRICS]
    peak = max([v for _, a, b in rows for v in (a, b)] + [1])
    categories = sorted({*this.by_category, *last.by_category})
    by_category = [(_category_name(c), _cells(this.by_category, last.by_category, c)) for c in categories]
    rooms = sorted({*this.by_room, *last.by_room}, key=lambda r: -sum(this.by_room.get(r, {}).values()))
    by_group = [(_where(app, r or None), _cells(this.by_room, last.by_room, r)) for r in rooms]
    return await page(request, "overview.html", waiting=waiting, rows=rows, peak=peak, by_category=by_category,
                      by_group=by_group,
                      week=f"{monday:%m-%d} 至 {monday + timedelta(days=6):%m-%d}")


def _category_name(code: str) -> str:
    return CATEGORIES.get(code) or ("私聊" if code == "" else "未分类")


def _cells(this: dict, last: dict, key: str) -> list[tuple[str, int, int]]:
    """(metric label, this week, last week) of one category or group, for the first four metrics."""
    return [(label, this.get(key, {}).get(m, 0), last.get(key, {}).get(m, 0)) for m, label in METRICS[:4]]


# ---- consultations and suggestions waiting for an answer ------------------------------------

# kind -> (command, verb, what it is, button, placeholder): what residents raised and an officer answers.
QUESTION_KINDS = {
    "consultation": ("咨询", "回复", "业务咨询", "回复", "写给居民的答复"),
    "suggestion": ("建议", "回复", "意见建议", "回复", "写给居民的答复"),
    "dispute": ("纠纷", "化解", "矛盾纠纷", "登记化解", "化解情况（进登记簿，不发给居民）"),
}
LISTED = 100


def _who(app, contact_id: str) -> str:
    known = app.directory.people.get(contact_id)  # never a raw WeChat id
    return known.name if known and known.name else "居民"


def _where(app, room_id: str | None) -> str:
    group = app.directory.group(room_id) if room_id else None
    return "私聊" if room_id is None else (group.name if group else "群聊")


async def questions(request: web.Request) -> web.Response:
    from storage.understanding import Consultation, DisputeRecord, Suggestion, open_items

    app, account = state_of(request).app, request["account"]
    tz = app.clock.tz
    sections = []
    async with app.sessions() as db:
        for kind, model in (("consultation", Consultation), ("suggestion", Suggestion), ("dispute", DisputeRecord)):
            command, verb, label, button, placeholder = QUESTION_KINDS[kind]
            items = [{"id": r.id, "at": f"{r.at.astimezone(tz):%m-%d %H:%M}", "who": _who(app, r.resident_id),
                      "where": _where(app, r.room_id), "text": r.text}
                     for r in await open_items(db, model, app.name, LISTED)]
            sections.append({"kind": kind, "label": label, "rows": items, "button": button,
                             "placeholder": placeholder, "may_answer": may(app, account.role, command, verb)})
    return await page(request, "questions.html", sections=sections)


async def answer_question(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in QUESTION_KINDS:
        raise web.HTTPNotFound()
    command, verb = QUESTION_KINDS[kind][:2]
    refuse_unless(request, command, verb)
    text = " ".join(str((await form(request)).get("answer", "")).split())
    if not text:
        await flash(request, ActionResult([TEXTS["empty_answer"]], "usage"))
        raise web.HTTPSeeOther(f"{state_of(request).prefix}questions")
    return await act(request, f"/{command} {verb} {int(request.match_info['id'])} {text}", "questions")


# ---- tips: open ones (overdue first), view (audited), reply, close ----------------------------

async def _tip_items(app) -> list[dict]:
    from handlers.tips import receipts
    from storage import tips as store

    hours, now, tz = app.config.tips.overdue_hours, app.clock.now(), app.clock.tz
    async with app.sessions() as db:
        rows = await store.open_tips(db, app.name, LISTED)
    items = [{"id": t.id, "category": t.category, "summary": t.summary, "at": receipts.local_stamp(t.created_at, tz),
              "overdue": receipts.is_overdue(t.created_at, t.first_reply_at, now, hours),
              "replied": t.first_reply_at is not None} for t in rows]
    items.sort(key=lambda i: not i["overdue"])  # overdue first, then oldest first (the store's order)
    from handlers.console.lookups import attachment_counts

    files = await attachment_counts(app, [i["id"] for i in items])
    for item in items:
        item["files"] = files.get(item["id"], 0)
    return items


async def tips_page(request: web.Request, viewed: str | None = None, status: int = 200) -> web.Response:
    """`viewed`: the full text of the tip just opened (shown on this answer only, never kept)."""
    app, role = state_of(request).app, request["account"].role
    return await page(request, "tips.html", status=status, items=await _tip_items(app),
                      hours=app.config.tips.overdue_hours, viewed=viewed,
                      may_view=may(app, role, "线索", "查看"), may_reply=may(app, role, "线索", "回复"),
                      may_files=may(app, role, "线索", "附件"),
                      may_close=may(app, role, "线索", "结案"))


SHOWN_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".webp": "image/webp"}


async def tip_file(request: web.Request) -> web.Response:
    """One attachment of a tip, on record; a photo is shown, anything else only downloaded."""
    from pathlib import PurePath
    from urllib.parse import quote

    from handlers.console.lookups import tip_attachment

    refuse_unless(request, "线索", "附件")
    account = request["account"]
    found = await tip_attachment(state_of(request).app, account.name, account.role,
                                 int(request.match_info["id"]), int(request.match_info["n"]))
    if found is None:
        raise web.HTTPNotFound(text="没有这个附件，或它已无法解密。")
    name, kind, data = found
    shown = SHOWN_IMAGES.get(PurePath(name).suffix) if kind == "image" else None
    return web.Response(body=data, headers={
        "Content-Type": shown or "application/octet-stream", "Content-Security-Policy": "sandbox",
        "Content-Disposition": f"{'inline' if shown else 'attachment'}; filename*=UTF-8''{quote(name)}"})


async def tip_action(request: web.Request) -> web.Response:
    verb = {"view": "查看", "reply": "回复", "close": "结案"}.get(request.match_info["action"])
    if verb is None:
        raise web.HTTPNotFound()
    refuse_unless(request, "线索", verb)
    n = int(request.match_info["id"])
    if verb == "查看":
        account = request["account"]
        result = await run_as(state_of(request).app, account.name, account.role, f"/线索 查看 {n}")
        return await tips_page(request, viewed=result.text)
    text = " ".join(str((await form(request)).get("text", "")).split())
    if not text:
        await flash(request, ActionResult([TEXTS["empty_answer"]], "usage"))
        raise web.HTTPSeeOther(f"{state_of(request).prefix}tips")
    return await act(request, f"/线索 {verb} {n} {text}", "tips")


# ---- bookings: a day or a week; complete, no-show, close a day, reveal a phone ---------------

def _day_arg(request: web.Request, today: date) -> date:
    try:
        return date.fromisoformat(request.query.get("day", ""))
    except ValueError:
        return today


async def bookings_page(request: web.Request) -> web.Response:
    from handlers.appointments.bookings import masked_phone
    from handlers.appointments.texts import STATUS_NAMES, day_label
    from storage import appointments as store

    app, role = state_of(request).app, request["account"].role
    tz = app.clock.tz
    day = _day_arg(request, app.clock.now().astimezone(tz).date())
    week = request.query.get("view") == "week"
    first = day - timedelta(days=day.weekday()) if week else day
    last = first + timedelta(days=6) if week else day
    async with app.sessions() as db:
        rows = [b for b in await store.bookings_of(db, app.name, day_from=first, day_to=last)
                if b.status != store.CANCELLED]
        closed = await store.closed_days(db, app.name, first, last)
    days = []
    for n in range((last - first).days + 1):
        d = first + timedelta(days=n)
        days.append({"label": day_label(d), "iso": d.isoformat(), "closed": d in closed,
                     "reason": closed.get(d) or "", "rows": [
                         {"code": b.code, "time": f"{b.slot_start.astimezone(tz):%H:%M}", "service": b.service,
                          "name": b.name, "phone": masked_phone(app, b), "status": STATUS_NAMES[b.status],
                          "open": b.status == store.BOOKED} for b in rows if b.day == d]})
    revealed = (await get_session(request)).pop("revealed", None)
    return await page(request, "bookings.html", days=days, day=day.isoformat(), week=week, revealed=revealed,
                      prev=(first - timedelta(days=7 if week else 1)).isoformat(),
                      next=(first + timedelta(days=7 if week else 1)).isoformat(),
                      may_mark=may(app, role, "预约", "完成"), may_close=may(app, role, "预约", "关闭"))


async def booking_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    data = await form(request)
    back = f"bookings?day={data.get('day', '')}&view={data.get('view', '')}"
    if action in ("complete", "no-show"):
        verb = "完成" if action == "complete" else "爽约"
        refuse_unless(request, "预约", verb)
        return await act(request, f"/预约 {verb} {str(data.get('code', '')).strip()}", back)
    if action in ("close", "reopen"):
        verb = "关闭" if action == "close" else "开放"
        refuse_unless(request, "预约", verb)
        reason = " ".join(str(data.get("reason", "")).split()) if action == "close" else ""
        return await act(request, f"/预约 {verb} {data.get('day', '')} {reason}".strip(), back)
    if action == "phone":
        refuse_unless(request, "预约", "完成")  # whoever may handle the booking may call the resident
        from handlers.console.lookups import reveal_phone

        account = request["account"]
        shown = await reveal_phone(state_of(request).app, account.name, account.role, str(data.get("code", "")))
        (await get_session(request))["revealed"] = shown
        raise web.HTTPSeeOther(f"{state_of(request).prefix}{back}")
    raise web.HTTPNotFound()


# ---- schedules and the notice library (the commands' own listings, and their verbs) -----------

SCHEDULE_VERBS = {"pause": "暂停计划", "resume": "恢复计划", "cancel": "取消计划"}
NOTICE_VERBS = {"disable": "停用", "enable": "启用", "delete": "删除"}


async def schedules_page(request: web.Request) -> web.Response:
    app, account = state_of(request).app, request["account"]
    listing = notices = ""
    if may(app, account.role, "计划"):
        listing = await read_as(app, account.name, account.role, "/计划")
    if may(app, account.role, "反诈", "列表"):
        notices = await read_as(app, account.name, account.role, "/反诈 列表")
    from handlers.pushes.notices import FRAUD_TYPES

    return await page(request, "schedules.html", listing=listing, notices=notices, fraud_types=FRAUD_TYPES,
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


# ---- registers -------------------------------------------------------------------------------

async def registers_page(request: web.Request) -> web.Response:
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
    if not may(app, request["account"].role, "审计"):
        raise web.HTTPForbidden(text=TEXTS["no_right"])
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
    if actor_id_.startswith("console:"):
        return f"{actor_id_[len('console:'):]}（工作台）"
    return _who(app, actor_id_)


# ---- groups and their categories ---------------------------------------------------------------

async def groups_page(request: web.Request) -> web.Response:
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
