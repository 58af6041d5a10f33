"""Bookings by day or week: complete, no-show, the full phone on record, close or reopen a day."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web
from aiohttp_session import get_session

from handlers.console.actions import may
from handlers.console.pages.common import act, form, page, refuse_page_unless, refuse_unless, state_of


def _day_arg(request: web.Request, today: date) -> date:
    try:
        return date.fromisoformat(request.query.get("day", ""))
    except ValueError:
        return today


async def bookings_page(request: web.Request) -> web.Response:
    refuse_page_unless(request, "bookings")
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
