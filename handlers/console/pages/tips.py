"""Tips: the open ones (overdue first), the full text and the files on record, reply, close."""

from __future__ import annotations

from aiohttp import web

from handlers.console.actions import ActionResult, may, run_as
from handlers.console.pages.common import act, flash, form, page, refuse_page_unless, refuse_unless, state_of
from handlers.console.pages.followups import LISTED
from handlers.console.texts import TEXTS


async def _tip_items(app) -> list[dict]:
    from handlers.tips import receipts
    from storage import tips as store

    hours, now, tz = app.config.tips.overdue_hours, app.clock.now(), app.clock.tz
    async with app.sessions() as db:
        rows = await store.open_tips(db, app.name, LISTED)
    items = [{"id": t.id, "category": t.category, "summary": receipts.summarise(app.vault.decrypt(t.body_enc)), "at": receipts.local_stamp(t.created_at, tz),
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
    refuse_page_unless(request, "tips")
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
