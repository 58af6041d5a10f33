"""Consultations, suggestions and disputes waiting for the officer, answered or resolved from the page."""

from __future__ import annotations

from aiohttp import web

from handlers.console.actions import ActionResult, may
from handlers.console.pages.common import (
    act, flash, form, page, refuse_page_unless, refuse_unless, state_of, where, who,
)
from handlers.console.texts import TEXTS

# kind -> (command, verb, what it is, button, placeholder): what residents raised and an officer answers.
QUESTION_KINDS = {
    "consultation": ("咨询", "回复", "业务咨询", "回复", "写给居民的答复"),
    "suggestion": ("建议", "回复", "意见建议", "回复", "写给居民的答复"),
    "dispute": ("纠纷", "化解", "矛盾纠纷", "登记化解", "化解情况（进登记簿，不发给居民）"),
}
LISTED = 100


async def questions(request: web.Request) -> web.Response:
    refuse_page_unless(request, "questions")
    from storage.understanding import Consultation, DisputeRecord, Suggestion, open_items

    app, account = state_of(request).app, request["account"]
    tz = app.clock.tz
    sections = []
    async with app.sessions() as db:
        for kind, model in (("consultation", Consultation), ("suggestion", Suggestion), ("dispute", DisputeRecord)):
            command, verb, label, button, placeholder = QUESTION_KINDS[kind]
            items = [{"id": r.id, "at": f"{r.at.astimezone(tz):%m-%d %H:%M}", "who": who(app, r.resident_id),
                      "where": where(app, r.room_id), "text": r.text}
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
