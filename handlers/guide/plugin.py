"""服务指南 and 业务咨询: questions answered from the guide, the rest go to the officer.

The guide is the built-in library (library.yaml, ~120 entries of general guidance), config.yaml's
`guide:` entries, and what officers added or changed in chat (/指南, see commands.py). A
consultation the guide can place with confidence gets the entry's answer where it was asked (@ the
asker in a group). One it cannot place is forwarded: the resident hears “已转给社区民警”, officers
are told privately, and `/咨询 回复 N 文本` answers the resident later. Every consultation is
recorded and counted (consultations: answered | forwarded; consultation_topics: entry id), and is a
row of the reception register (接待服务登记簿).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import numpy as np

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Strict
from bot.context import Context
from handlers.help import menu_text
from bot.masking import mask_name, mask_text
from bot.plugin import OFFICER, STAFF, Plugin
from handlers.followup import (
    ANSWER_PATTERN, GROUP_MIN_CONFIDENCE, ITEM_PREVIEW, FollowupTexts, list_open, preview, send_answer,
    source_name, where_asked,
)
from handlers.guide.library import (
    BUILTIN, OFFICER_ADDED, Entry, LocalFacts, builtin_entries, builtin_title, edited, render, unrelated_questions,
    with_config,
)
from handlers.guide import retrieval
from handlers.guide.retrieval import Hit, canonical, retriever_for, words
from handlers.guide.texts import REGISTER_TEXTS, TEXTS
from handlers.intents import Classification
from handlers.intents.normalize import normalize
from storage.guide import GuideEdit, guide_edits
from storage.db import add_row
from storage.later import insert_later
from storage.registers import RegisterRow, day_bounds
from storage.understanding import ANSWERED, OPEN, Consultation, recorded_between
from storage.upsert import plain_insert


class GuideEntry(Strict):
    """One entry of `guide:` in config.yaml."""

    id: str = Field(min_length=1, max_length=64)
    title: str | None = None
    keywords: list[str] = []
    questions: list[str] = []
    answer: str = Field(min_length=1)
    service: str | None = None

    @property
    def topic(self) -> str:
        """What officers call it in reports and registers: its service, else its title or first keyword."""
        return self.service or self.title or (self.keywords[0] if self.keywords else self.questions[0])

    @model_validator(mode="after")
    def _matchable(self) -> GuideEntry:
        if not self.keywords and not self.questions:
            raise PydanticCustomError("unmatchable", "needs keywords or questions to match on", {})
        return self


plugin = Plugin("guide", config=list[GuideEntry], config_default=[], order=100)
plugin.menu_item("直接问我办事的问题，比如“办居住证要带什么？”")

FOLLOWUP = FollowupTexts(TEXTS["list_empty"], TEXTS["list_head"], TEXTS["to_resident"],
                         TEXTS["done"], TEXTS["not_found"], TEXTS["already"], TEXTS["usage"])

GUIDE = "guide"  # answered_by of a consultation the guide answered (no officer)

# In a group, a question that matches no entry is forwarded only when it is clearly meant for the
# police post (or the bot was @-ed): "请问谁家丢了钥匙？" is neighbours talking, not a consultation.
DIRECT_MIN_CONFIDENCE = 0.4
POLICE_BUSINESS = ("派出所", "警务室", "民警", "警官", "户口", "户籍", "证明", "办理", "手续", "材料",
                   "身份证", "居住证", "签注", "护照", "通行证", "落户", "迁户", "报案", "备案")
# In a group, a question about a neighbour's thing is for the neighbours, even if the guide knows the
# topic: “请问谁家丢了钥匙？” is not a resident asking what to do about lost keys.
FOR_NEIGHBOURS = re.compile(r"谁家|谁的|哪位邻居|哪家的|谁捡到|有人捡到")
# In a group, the guide answers a question or a trouble, not a remark: “居住证签注办好了谢谢”,
# “我刚从警务室回来” talk about the guide's topics and ask nothing. Said to the bot, anything goes.
ASKING = re.compile(
    r"[?？吗呢么嘛]|不$|怎|咋|如何|哪|什么|啥|几|多少|多久|能否|可以|是不是|请问|想问|问一下|问问|打听|咨询|求助|帮|"
    r"办法|找谁|谁管|该|得去|要带|需要|流程|手续|材料|条件|想|要|被|偷|盗|骗|咬|打我|跟着|捡到|落在|忘在|丢|掉了|"
    r"不见|找不|没了|坏了|过期|到期|错了|不对|冒用|泄露|威胁|骚扰|走丢|走失|扰民|吵|漏水|堵|挡|乱|危险|可疑|烦|转错|"
    r"不了|(.)不\1")
LOCAL_BONUS = 0.2  # config and officers' entries are this community's own: preferred when close


class GuideIndex:
    """The merged guide and its retriever; rebuilt when officers change an entry (see reload)."""

    def __init__(self, config_entries: list[GuideEntry], service_words: list[str], facts: LocalFacts,
                 bot: str = "", cache: Path | None = None) -> None:
        """cache: where the guide trained for this community's own entries is kept (see retriever_for)."""
        self.cache = cache
        self.base = with_config(list(builtin_entries()), config_entries)
        self.facts = facts
        self.bot = bot
        self.business_words = tuple(POLICE_BUSINESS) + tuple(normalize(w) for w in service_words if len(w) >= 2)
        self.generation = 0  # of the latest build asked for: an older one finishing later is not swapped in
        self._swap(self._build([], train=not self._in_background()) or self._provisional([]))

    def _in_background(self) -> bool:
        return self.cache is not None and retrieval.TRAIN_APART

    async def start(self, app, session: AsyncSession) -> None:
        """At the bot's start: the guide with officers' edits. Trained before (the usual restart):
        at once. New entries (a first start, a changed config): the bot starts answering from the
        built-in guide while they are trained in the background (a few seconds), then swaps them in."""
        edits = [_plain(e) for e in await guide_edits(session, self.bot)]
        built = self._build(edits, train=False)
        if built is not None:
            self.generation += 1
            self._swap_in(built)
        elif self._in_background():
            self._swap_in(self._provisional(edits))
            app.spawn(self._rebuild(edits), name="guide-training")
        else:
            await self._rebuild(edits)

    async def reload(self, session: AsyncSession) -> None:
        """After an officer's change: rebuilt off the event loop (a few seconds), then swapped in
        at once, so a question asked meanwhile is answered from the guide as it was."""
        await self._rebuild([_plain(e) for e in await guide_edits(session, self.bot)])

    async def _rebuild(self, edits: list[dict]) -> None:
        self.generation += 1
        generation = self.generation
        built = await asyncio.to_thread(self._build, edits)
        if generation == self.generation:
            self._swap_in(built)

    def _merged(self, edits: list[dict]) -> dict[str, Entry]:
        entries = {e.id: e for e in self.base}
        for edit in edits:
            entry_id = edit["entry_id"]
            if edit["removed"]:
                entries.pop(entry_id, None)
            elif edit["added"]:
                entries[entry_id] = Entry(entry_id, edit["title"] or entry_id, (), tuple(edit["questions"]),
                                          edit["answer"] or "", OFFICER_ADDED)
            elif entry_id in entries:
                entries[entry_id] = edited(entries[entry_id], answer=edit["answer"],
                                           questions=tuple(edit["questions"]), title=edit["title"])
        return entries

    def _build(self, edits: list[dict], train: bool = True) -> tuple | None:
        """The merged guide and its retriever; None if that is not trained yet and `train` is False."""
        entries = self._merged(edits)
        listed = list(entries.values())
        bonus = np.array([0.0 if e.source == BUILTIN else LOCAL_BONUS for e in listed])
        retriever = retriever_for(listed, _not_local(unrelated_questions(), listed), self.cache, train=train)
        return None if retriever is None else (listed, entries, retriever, bonus)

    def _provisional(self, edits: list[dict]) -> tuple:
        """Until the community's own entries are trained: the built-in guide's retriever (shipped
        trained), answering with the community's version of an entry where it replaces a built-in
        one; a built-in entry officers removed is not answered, their new ones not yet."""
        entries = self._merged(edits)
        builtin = list(builtin_entries())
        bonus = np.array([LOCAL_BONUS if e.id in entries and entries[e.id].source != BUILTIN else 0.0 for e in builtin])
        return list(entries.values()), entries, retriever_for(builtin, unrelated_questions()), bonus

    def _swap(self, built: tuple) -> None:
        self.entries, self.by_id, self.retriever, self.bonus = built

    def _swap_in(self, built: tuple) -> None:
        """In place of the guide answering until now, which is let go: ~25 MB no longer answering
        (its arrays stay on disk where they were trained here)."""
        before = self.retriever
        self._swap(built)
        if before is not self.retriever:
            retrieval.forget(before)

    def find(self, text: str) -> Hit | None:
        return self.retriever.best(text, self.bonus)

    def match(self, text: str) -> Entry | None:
        """The entry that answers `text`, or None when the guide cannot tell with confidence."""
        retriever, by_id, bonus = self.retriever, self.by_id, self.bonus  # one consistent snapshot
        hit = retriever.answerable(text, bonus)
        return by_id.get(hit.entry_id) if hit is not None else None

    def answer(self, entry: Entry) -> str:
        return render(entry, self.facts)

    def topic(self, entry_id: str) -> str | None:
        entry = self.by_id.get(entry_id)
        return entry.topic if entry else None

    def is_police_business(self, text: str) -> bool:
        norm = normalize(text)
        return any(w in norm for w in self.business_words)


def _plain(edit: GuideEdit) -> dict:
    return {"entry_id": edit.entry_id, "added": edit.added, "removed": edit.removed, "title": edit.title,
            "questions": list(edit.questions or []), "answer": edit.answer}


def bookable(config) -> list:
    """The services of the appointments plugin, when it is loaded."""
    return list(getattr(config, "services", []))


@plugin.validator
def check_services_named(config) -> list[str]:
    if not hasattr(config, "services"):
        return []  # no plugin offers bookings here: an entry's `service` is only a label
    names = {s.name for s in bookable(config)}
    return [f"guide[{i}].service: unknown service '{e.service}'"
            for i, e in enumerate(config.guide) if e.service and e.service not in names]


@plugin.provides(GuideIndex)
async def build_index(app) -> GuideIndex:
    words = [w for s in bookable(app.config) for w in (s.name, *s.aliases)]
    return GuideIndex(app.config.guide, words, LocalFacts.of(app.config.bot), app.name, app.config.data_path / "guide")


@plugin.on_start
async def load_officers_edits(app) -> None:
    async with app.sessions() as session:
        await app.service(GuideIndex).start(app, session)


@plugin.intent("consultation")
async def consult(ctx: Context, found: Classification) -> bool:
    index = ctx.app.service(GuideIndex)
    if ctx.group is not None and ctx.role in STAFF:
        return False  # officers and staff answer questions in the groups; they are not consultations
    if ctx.group is not None and not ctx.message.mentions_bot and (
            FOR_NEIGHBOURS.search(ctx.text) or not ASKING.search(normalize(ctx.text))):
        return False
    entry = index.match(ctx.text)
    if entry is not None:
        await _answer(ctx, index, entry)
        return True
    if not _worth_forwarding(ctx, found, index):
        if ctx.is_private:  # "你好", "在吗" said to the bot: show what it can do
            await ctx.reply(menu_text(ctx.app, ctx.role))
            return True
        return False
    row_id = await _record(ctx, None, OPEN, None)
    await ctx.reply(TEXTS["forwarded"])
    await ctx.notify_roles(OFFICER, TEXTS["officer_notice"].format(
        id=row_id, where=where_asked(ctx, ctx.message.room_id),
        name=ctx.message.sender_name or ctx.sender.name or "居民", text=preview(mask_text(ctx.text))))
    await ctx.count("consultations", "forwarded")
    return True


@plugin.intent("other", priority=10, said_to_bot=True)
async def other_but_in_the_guide(ctx: Context, found: Classification) -> bool:
    """Said to the bot (in private, or @ it in a group) and read as nothing in particular, yet the
    guide knows the question with confidence (“96110是骗子吗”): answer it. Otherwise let it be: a
    group's chatter is not even routed here."""
    if not _asks(ctx.text):  # "谢谢", "嗯嗯好的", "123": no question, whatever the index finds
        return False
    index = ctx.app.service(GuideIndex)
    entry = index.match(ctx.text)
    if entry is None:
        return False
    await _answer(ctx, index, entry)
    return True


_QUESTION = re.compile(r"[?？吗嘛呢咋啥哪几多怎如么]|什么|能不能|可不可以|要不要|是不是")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _asks(text: str) -> bool:
    """A message the model read as nothing in particular is a question for the guide only if it
    asks something in words: a few characters and a question word or mark."""
    return len(_HAN.findall(text)) >= 3 and bool(_QUESTION.search(text))


async def _answer(ctx: Context, index: GuideIndex, entry: Entry) -> None:
    answer = index.answer(entry)
    # No number is told for an answered question: its row goes in with the reply's (storage.later),
    # a routine one (it counts the question; lost in a server crash, the count is one short)
    await insert_later(ctx.session, plain_insert(Consultation.__table__), _row(ctx, entry.id, ANSWERED, answer),
                       routine=True)
    await ctx.reply(TEXTS["answer"].format(answer=answer))
    await ctx.count("consultations", "answered")
    await ctx.count("consultation_topics", entry.id)


def _worth_forwarding(ctx: Context, found: Classification, index: GuideIndex) -> bool:
    if ctx.is_private or ctx.message.mentions_bot:
        # Said to the bot: forward real questions, not "你好"/"在吗" (those get the menu).
        return found.confidence >= DIRECT_MIN_CONFIDENCE
    return found.confidence >= GROUP_MIN_CONFIDENCE and index.is_police_business(ctx.text)


async def _record(ctx: Context, entry_id: str | None, status: str, answer: str | None) -> int:
    """The consultation's row; its number is for the officer's notice."""
    return await add_row(ctx.session, Consultation, **_row(ctx, entry_id, status, answer))


def _row(ctx: Context, entry_id: str | None, status: str, answer: str | None) -> dict:
    return dict(bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id, asker_id=ctx.sender.id,
                text=mask_text(ctx.text), entry_id=entry_id, status=status, answer=answer,
                answered_at=ctx.now if status == ANSWERED else None, answered_by=GUIDE if status == ANSWERED else None)


@plugin.command("咨询", roles=STAFF, summary="查看待回复的居民咨询")
async def consultations(ctx: Context) -> None:
    await list_open(ctx, Consultation, FOLLOWUP)


@plugin.subcommand("咨询", "回复", pattern=ANSWER_PATTERN, usage="编号 答复内容",
                   summary="回复一条咨询，答复发回居民提问的地方")
async def answer_consultation(ctx: Context, n: str, text: str) -> None:
    await send_answer(ctx, Consultation, FOLLOWUP, int(n), text)


def topic_of(config, entry_id: str | None, titles: dict[str, str] | None = None) -> str:
    """A guide entry's topic by its id: config, officers' entries (`titles`), the built-in library;
    an entry since removed: its id."""
    if not entry_id:
        return ""
    entry = next((e for e in config.guide if e.id == entry_id), None)
    if entry is not None:
        return entry.topic
    return (titles or {}).get(entry_id) or builtin_title(entry_id) or entry_id


def handling(status: str, answered_by: str | None) -> str:
    """办理情况 of a consultation: the guide answered it, it waits for the officer, or they answered."""
    if status == OPEN:
        return REGISTER_TEXTS["open"]
    return REGISTER_TEXTS["guide"] if answered_by == GUIDE else REGISTER_TEXTS["answered"]


@plugin.register_rows("reception")
async def reception_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    rows = []
    titles = {e.entry_id: e.title for e in await guide_edits(session, config.bot.name) if e.title}
    for line in await recorded_between(session, Consultation, config.bot.name, *day_bounds(start, end)):
        c = line.record
        rows.append(RegisterRow(c.at, {
            "类别": REGISTER_TEXTS["category"],
            "事项": topic_of(config, c.entry_id, titles) or preview(mask_text(c.text), ITEM_PREVIEW),
            "来源": source_name(c.room_id, line.room_name), "群众": mask_name(line.resident_name),
            "办理情况": handling(c.status, c.answered_by), "办结时间": c.answered_at or "",
            "经办人": line.officer_name or ""}))
    return rows


def _not_local(unrelated: tuple[str, ...], entries: list[Entry]) -> tuple[str, ...]:
    """The shipped “not the guide” questions, without those on a topic this community's own entries
    answer (an officer's entry on 结婚登记 must not be outvoted by the shipped 结婚登记在哪里办)."""
    local = [e for e in entries if e.source != BUILTIN]
    if not local:
        return unrelated
    said = {w for e in local for t in (e.title, *e.keywords, *e.questions) for w in words(canonical(t)) if len(w) >= 2}
    return tuple(u for u in unrelated if not said & set(words(canonical(u))))

