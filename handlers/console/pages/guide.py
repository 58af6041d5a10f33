"""The service guide: every entry (built-in, config, officers' own), searched the way a resident's
question is matched; one entry's answer and ways of asking; add, change, delete and restore — each
the `/指南` command run as the account, so roles, the retriever's rebuild and the audit row are the chat's."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from handlers.console.actions import ActionResult, may
from handlers.console.pages.common import act, flash, form, page, refuse_page_unless, refuse_unless, state_of
from handlers.console.texts import GUIDE_TEXTS as G, TEXTS
from handlers.guide.library import BUILTIN

SEARCHED = 10  # entries the retriever ranks for a search (as `/指南 搜索`, a few more)
MIN_SCORE = 0.1
VERBS = {"answer": "修改", "questions": "问法", "unask": "删问法", "delete": "删除", "restore": "恢复"}


def _index(app):
    from handlers.guide.plugin import GuideIndex

    return app.service(GuideIndex)


def _row(entry, edited: set[str], answering: str | None = None, score: float | None = None) -> dict:
    return {"id": entry.id, "title": entry.title, "source": G["sources"][entry.source],
            "asked": "，".join(entry.questions[:3]), "edited": entry.id in edited,
            "answers": entry.id == answering, "score": score}


async def guide_page(request: web.Request) -> web.Response:
    """`?q=身份证丢了`: the entries a resident's words are closest to (the one that would answer first),
    then those whose title, number or ways of asking hold the words."""
    refuse_page_unless(request, "guide")
    from storage.guide import guide_edits

    app, role = state_of(request).app, request["account"].role
    index = _index(app)
    query = " ".join(request.query.get("q", "").split())[:100]
    async with app.sessions() as db:
        edits = await guide_edits(db, app.name)
    edited = {e.entry_id for e in edits if not e.added}
    if query:
        answering = index.match(query)
        ranked = [(i, s) for i, s in index.retriever.ranked(query, SEARCHED) if s > MIN_SCORE and i in index.by_id]
        rows = [_row(index.by_id[i], edited, answering.id if answering else None, s) for i, s in ranked]
        shown = {r["id"] for r in rows}
        rows += [_row(e, edited) for e in index.entries if e.id not in shown and _holds(e, query)]
    else:
        local_first = sorted(index.entries, key=lambda e: e.source == BUILTIN)  # stable: the guide's order
        rows = [_row(e, edited) for e in local_first]
    removed = [{"id": e.entry_id, "title": e.title or _title(app, e.entry_id)} for e in edits if e.removed]
    return await page(request, "guide.html", rows=rows, query=query, removed=removed, g=G,
                      total=len(index.entries), may_add=may(app, role, "指南", "新增"),
                      may_restore=may(app, role, "指南", "恢复"))


def _holds(entry, query: str) -> bool:
    words = query.lower().split()
    text = " ".join((entry.id, entry.title, *entry.questions, *entry.keywords)).lower()
    return all(w in text for w in words)


def _title(app, entry_id: str) -> str:
    from handlers.guide.plugin import topic_of

    return topic_of(app.config, entry_id)


async def entry_page(request: web.Request) -> web.Response:
    refuse_page_unless(request, "guide")
    from storage.guide import guide_edit

    app, role = state_of(request).app, request["account"].role
    index, entry_id = _index(app), request.match_info["id"]
    entry = index.by_id.get(entry_id)
    async with app.sessions() as db:
        edit = await guide_edit(db, app.name, entry_id)
    if entry is None and edit is None:
        raise web.HTTPNotFound(text=G["no_entry"].format(id=entry_id))
    shown = None
    local = set(edit.questions or []) if edit is not None else set()  # officers' own: they may take one back
    if entry is not None:
        # What the officer edits: the answer as residents read it, without the “一般办法” line the
        # bot adds to a built-in answer nobody here has rewritten (a rewritten one is sent as written).
        shown = {"id": entry.id, "title": entry.title, "source": G["sources"][entry.source],
                 "questions": [(q, q in local) for q in entry.questions], "answer": index.answer(entry),
                 "draft": index.answer(replace(entry, general=False)), "general": entry.general}
    return await page(request, "guide_entry.html", entry=shown, entry_id=entry_id, g=G,
                      removed=entry is None, edited=edit is not None and not edit.added,
                      may={verb: may(app, role, "指南", word) for verb, word in VERBS.items()})


async def guide_add(request: web.Request) -> web.Response:
    """`/指南 新增 标题 | 问法1，问法2 | 回答`: a bar in the title or the ways of asking would split
    the command in the wrong place, so it is taken out of them (the answer may hold one)."""
    refuse_unless(request, "指南", "新增")
    data = await form(request)
    title = _one_line(data.get("title"))
    asked = _questions(data.get("questions"))
    answer = _answer(data.get("answer"))
    if not (title and asked and answer):
        await flash(request, ActionResult([G["add_missing"]], "usage"))
        raise web.HTTPSeeOther(f"{state_of(request).prefix}guide")
    return await act(request, f"/指南 新增 {title} | {asked} | {answer}", "guide?q=" + _quoted(title))


async def entry_action(request: web.Request) -> web.Response:
    action, entry_id = request.match_info["action"], request.match_info["id"]
    if action not in VERBS:
        raise web.HTTPNotFound()
    refuse_unless(request, "指南", VERBS[action])
    data = await form(request)
    back = f"guide/{entry_id}"
    if action == "answer":
        text = _answer(data.get("answer"))
    elif action == "questions":
        text = _questions(data.get("questions"))
    elif action == "unask":
        text = " ".join(str(data.get("question", "")).split())  # as listed: the command finds it by its words
    else:
        text = ""
        back = "guide" if action == "delete" else back
    if action in ("answer", "questions", "unask") and not text:
        missing = TEXTS["empty_answer"] if action == "answer" else G["no_questions"]
        await flash(request, ActionResult([missing], "usage"))
        raise web.HTTPSeeOther(f"{state_of(request).prefix}{back}")
    return await act(request, f"/指南 {VERBS[action]} {entry_id} {text}".strip(), back)


def _one_line(value) -> str:
    return " ".join(str(value or "").replace("|", " ").replace("｜", " ").split())


def _questions(value) -> str:
    """Ways of asking, one a line on the page, as the command takes them (commas between)."""
    return "，".join(q for q in (_one_line(line) for line in str(value or "").splitlines()) if q)


def _answer(value) -> str:
    """The answer as written, its lines kept (a list of what to bring reads better on a phone)."""
    lines = [" ".join(line.split()) for line in str(value or "").replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
