"""/指南: officers and staff read, search, add and change the guide in chat, no file to edit.

Changes are rows of guide_edits (storage.guide), laid over the shipped entries; the retriever is
rebuilt at once, so the next resident's question is answered by the new text.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.plugin import STAFF
from handlers.guide.library import BUILTIN
from handlers.guide.plugin import GuideIndex, plugin
from handlers.guide.texts import COMMAND_TEXTS as T
from storage.guide import GuideEdit, guide_edit, guide_edits

MAX_TITLE, MAX_QUESTION, MAX_ANSWER = 60, 100, 1500
ADDED_PREFIX = "jw"  # ids of officers' own entries: jw1, jw2 ...
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")
ID = r"(?P<entry_id>[A-Za-z0-9-]{1,64})"


@plugin.command("指南", roles=STAFF, summary=T["summary"], usage="[关键词]")
async def guide_list(ctx: Context) -> None:
    if ctx.rest.strip():
        await guide_search(ctx, ctx.rest)
        return
    index = ctx.app.service(GuideIndex)
    builtin = sum(e.source == BUILTIN for e in index.entries)
    lines = [T["list_head"].format(n=len(index.entries), builtin=builtin, local=len(index.entries) - builtin)]
    lines += [T["list_line"].format(id=e.id, title=e.title) for e in index.entries]
    await ctx.reply("\n".join(lines))


@plugin.subcommand("指南", "搜索", aliases=("查找", "找"), pattern=r"(?P<query>.+)", usage="关键词或居民的问法",
                   summary="看一句话会用哪条指南回答")
async def guide_search(ctx: Context, query: str) -> None:
    index = ctx.app.service(GuideIndex)
    ranked = [(i, s) for i, s in index.retriever.ranked(query, 5) if s > 0.1 and i in index.by_id]
    if not ranked:
        await ctx.reply(T["search_none"])
        return
    answered = index.match(query)
    lines = [T["search_head"].format(query=query.strip())]
    for entry_id, score in ranked:
        mark = T["would_answer"] if answered is not None and answered.id == entry_id else ""
        lines.append(T["search_line"].format(id=entry_id, title=index.by_id[entry_id].title, score=score, mark=mark))
    await ctx.reply("\n".join(lines))


@plugin.subcommand("指南", "查看", pattern=ID, usage="编号", summary="看一条指南的全文")
async def guide_show(ctx: Context, entry_id: str) -> None:
    index = ctx.app.service(GuideIndex)
    entry = index.by_id.get(entry_id)
    if entry is None:
        await ctx.reply(T["not_found"].format(id=entry_id))
        return
    await ctx.reply(T["show"].format(id=entry.id, title=entry.title, source=T["sources"][entry.source],
                                     questions="，".join(entry.questions), answer=index.answer(entry)))


@plugin.subcommand("指南", "新增", aliases=("添加",), pattern=r"(?P<title>[^|｜]+)[|｜](?P<questions>[^|｜]+)[|｜](?P<answer>.+)",
                   usage="标题 | 问法1，问法2 | 回答", summary="新增一条指南，居民再问就自动回答")
async def guide_add(ctx: Context, title: str, questions: str, answer: str) -> None:
    title, answer, asked = title.strip(), answer.strip(), _split(questions)
    problem = _too_long(title=title, answer=answer, questions=asked)
    if problem or not (title and answer and asked):
        await ctx.reply(problem or T["bad_add"])
        return
    taken = {e.entry_id for e in await guide_edits(ctx.session, ctx.app.name)}
    n = 1 + sum(i.startswith(ADDED_PREFIX) for i in taken)
    while f"{ADDED_PREFIX}{n}" in taken:
        n += 1
    entry_id = f"{ADDED_PREFIX}{n}"
    ctx.session.add(GuideEdit(bot=ctx.app.name, entry_id=entry_id, added=True, title=title, questions=asked,
                              answer=answer, removed=False, updated_at=ctx.now, updated_by=ctx.sender.id))
    await _rebuild(ctx)
    await ctx.reply(T["added"].format(id=entry_id, title=title, question=asked[0]))


@plugin.subcommand("指南", "修改", aliases=("改",), pattern=ID + r"\s+(?P<answer>.+)", usage="编号 新的回答",
                   summary="改一条指南的回答（内置的也能改）")
async def guide_edit_answer(ctx: Context, entry_id: str, answer: str) -> None:
    answer = answer.strip()
    if problem := _too_long(answer=answer):
        await ctx.reply(problem)
        return
    edit = await _edit_of(ctx, entry_id)
    if edit is None:
        return
    edit.answer = answer
    await _rebuild(ctx)
    await ctx.reply(T["updated"].format(id=entry_id, title=ctx.app.service(GuideIndex).by_id[entry_id].title))


@plugin.subcommand("指南", "问法", pattern=ID + r"\s+(?P<questions>.+)", usage="编号 问法1，问法2",
                   summary="给一条指南加上居民的问法")
async def guide_add_questions(ctx: Context, entry_id: str, questions: str) -> None:
    asked = _split(questions)
    if problem := _too_long(questions=asked):
        await ctx.reply(problem)
        return
    edit = await _edit_of(ctx, entry_id)
    if edit is None:
        return
    edit.questions = list(edit.questions or []) + [q for q in asked if q not in (edit.questions or [])]
    await _rebuild(ctx)
    await ctx.reply(T["questions_added"].format(id=entry_id, n=len(asked)))


@plugin.subcommand("指南", "删问法", aliases=("去掉问法",), pattern=ID + r"\s+(?P<question>.+)", usage="编号 问法",
                   summary="去掉民警给一条指南加上的一个问法（加错了的）")
async def guide_remove_question(ctx: Context, entry_id: str, question: str) -> None:
    question = question.strip()
    edit = await guide_edit(ctx.session, ctx.app.name, entry_id)
    if edit is None or question not in (edit.questions or []):
        await ctx.reply(T["question_not_local"].format(id=entry_id, question=question))
        ctx.outcome = "refused: not an officer's question"
        return
    if edit.added and len(edit.questions) == 1:
        await ctx.reply(T["last_question"].format(id=entry_id))
        ctx.outcome = "refused: last question"
        return
    edit.questions = [q for q in edit.questions if q != question]
    edit.updated_at, edit.updated_by = ctx.now, ctx.sender.id
    await _rebuild(ctx)
    await ctx.reply(T["question_removed"].format(id=entry_id, question=question))


@plugin.subcommand("指南", "删除", pattern=ID, usage="编号", summary="删除一条指南（这类问题改为转给民警）")
async def guide_remove(ctx: Context, entry_id: str) -> None:
    title = ctx.app.service(GuideIndex).by_id.get(entry_id)
    edit = await _edit_of(ctx, entry_id)
    if edit is None:
        return
    edit.removed = True
    await _rebuild(ctx)
    await ctx.reply(T["deleted"].format(id=entry_id, title=title.title if title else entry_id))


@plugin.subcommand("指南", "恢复", pattern=ID, usage="编号", summary="撤销对一条指南的修改或删除")
async def guide_restore(ctx: Context, entry_id: str) -> None:
    edit = await guide_edit(ctx.session, ctx.app.name, entry_id)
    if edit is None:
        await ctx.reply(T["nothing_to_restore"].format(id=entry_id))
        return
    if edit.added:
        edit.removed = False
    else:
        await ctx.session.delete(edit)
    await _rebuild(ctx)
    await ctx.reply(T["restored"].format(id=entry_id))


async def _edit_of(ctx: Context, entry_id: str) -> GuideEdit | None:
    """The row holding this entry's local version (made on first change); None: no such entry."""
    edit = await guide_edit(ctx.session, ctx.app.name, entry_id)
    if edit is None and entry_id in ctx.app.service(GuideIndex).by_id:
        edit = GuideEdit(bot=ctx.app.name, entry_id=entry_id, added=False, questions=[], removed=False,
                         updated_at=ctx.now, updated_by=ctx.sender.id)
        ctx.session.add(edit)
    if edit is None or (edit.removed and entry_id not in ctx.app.service(GuideIndex).by_id):
        await ctx.reply(T["not_found"].format(id=entry_id))
        return None
    edit.updated_at, edit.updated_by = ctx.now, ctx.sender.id
    return edit


async def _rebuild(ctx: Context) -> None:
    await ctx.session.flush()
    await ctx.app.service(GuideIndex).reload(ctx.session)


def _split(questions: str) -> list[str]:
    return [q.strip() for q in _LIST_SPLIT.split(questions) if q.strip()]


def _too_long(*, title: str = "", answer: str = "", questions: list[str] = ()) -> str | None:
    for what, text, limit in (("标题", title, MAX_TITLE), ("回答", answer, MAX_ANSWER),
                              *(("问法", q, MAX_QUESTION) for q in questions)):
        if len(text) > limit:
            return T["too_long"].format(what=what, n=limit)
    return None

