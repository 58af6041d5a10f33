"""The overview: what waits for the officer, this week against the last, per category and group."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.config import CATEGORIES
from handlers.console.pages.common import may_open, page, state_of, viewed_bot, where
from handlers.console.texts import METRICS, TEXTS
from storage import stats


async def overview(request: web.Request) -> web.Response:
    """The bot serving the page; for a district account, the bot it chose (read-only: counts, no names)."""
    from handlers.console.district import room_names
    from storage import appointments, tips
    from storage.understanding import Consultation, Suggestion, count_open

    app = state_of(request).app
    bot = await viewed_bot(request)
    today = app.clock.now().astimezone(app.clock.tz).date()
    monday = today - timedelta(days=today.weekday())
    async with app.sessions() as db:
        this = await stats.totals(db, bot, monday, monday + timedelta(days=6))
        last = await stats.totals(db, bot, monday - timedelta(days=7), monday - timedelta(days=1))
        # Another bot's tip deadline is in its own config, not here: this bot's stands in for it.
        hours = app.config.tips.overdue_hours if hasattr(app.config, "tips") else 48
        waiting = [
            (TEXTS["open_questions"], await count_open(db, Consultation, bot), "questions"),
            (TEXTS["open_suggestions"], await count_open(db, Suggestion, bot), "questions"),
            (TEXTS["open_tips"], await tips.open_count(db, bot), "tips"),
            (TEXTS["overdue_tips"], await tips.overdue_count(db, bot, app.clock.now(), hours), "tips"),
            (TEXTS["today_bookings"], len([b for b in await appointments.bookings_of(
                db, bot, day_from=today, day_to=today, status=appointments.BOOKED)]), "bookings"),
        ]
        names = await room_names(db, bot) if bot != app.name else {}
    role = request["account"].role
    waiting = [(label, n, link if may_open(app, role, link) else "") for label, n, link in waiting]
    rows = [(label, this.get(metric), last.get(metric)) for metric, label in METRICS]
    peak = max([v for _, a, b in rows for v in (a, b)] + [1])
    categories = sorted({*this.by_category, *last.by_category})
    by_category = [(_category_name(c), _cells(this.by_category, last.by_category, c)) for c in categories]
    rooms = sorted({*this.by_room, *last.by_room}, key=lambda r: -sum(this.by_room.get(r, {}).values()))
    by_group = [(_room_name(app, bot, names, r), _cells(this.by_room, last.by_room, r)) for r in rooms]
    return await page(request, "overview.html", waiting=waiting, rows=rows, peak=peak, by_category=by_category,
                      by_group=by_group, bot=bot,
                      week=f"{monday:%m-%d} 至 {monday + timedelta(days=6):%m-%d}")


def _room_name(app, bot: str, names: dict[str, str], room_id: str) -> str:
    if bot == app.name:
        return where(app, room_id or None)
    return "私聊" if not room_id else names.get(room_id, "群聊")


def _category_name(code: str) -> str:
    return CATEGORIES.get(code) or ("私聊" if code == "" else "未分类")


def _cells(this: dict, last: dict, key: str) -> list[tuple[str, int, int]]:
    """(metric label, this week, last week) of one category or group, for the first four metrics."""
    return [(label, this.get(key, {}).get(m, 0), last.get(key, {}).get(m, 0)) for m, label in METRICS[:4]]
