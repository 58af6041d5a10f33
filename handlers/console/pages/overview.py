"""The overview: what waits for the officer, this week against the last, per category and group."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.config import CATEGORIES
from handlers.console.pages.common import may_open, page, state_of, where
from handlers.console.texts import METRICS, TEXTS
from storage import stats


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
    role = request["account"].role
    waiting = [(label, n, link if may_open(app, role, link) else "") for label, n, link in waiting]
    rows = [(label, this.get(metric), last.get(metric)) for metric, label in METRICS]
    peak = max([v for _, a, b in rows for v in (a, b)] + [1])
    categories = sorted({*this.by_category, *last.by_category})
    by_category = [(_category_name(c), _cells(this.by_category, last.by_category, c)) for c in categories]
    rooms = sorted({*this.by_room, *last.by_room}, key=lambda r: -sum(this.by_room.get(r, {}).values()))
    by_group = [(where(app, r or None), _cells(this.by_room, last.by_room, r)) for r in rooms]
    return await page(request, "overview.html", waiting=waiting, rows=rows, peak=peak, by_category=by_category,
                      by_group=by_group,
                      week=f"{monday:%m-%d} 至 {monday + timedelta(days=6):%m-%d}")


def _category_name(code: str) -> str:
    return CATEGORIES.get(code) or ("私聊" if code == "" else "未分类")


def _cells(this: dict, last: dict, key: str) -> list[tuple[str, int, int]]:
    """(metric label, this week, last week) of one category or group, for the first four metrics."""
    return [(label, this.get(key, {}).get(m, 0), last.get(key, {}).get(m, 0)) for m, label in METRICS[:4]]
