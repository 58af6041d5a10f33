"""服务指南 and 业务咨询: questions answered from the guide in config, the rest go to the officer.

A consultation that matches a guide entry gets the entry's answer where it was asked (@ the asker
in a group). One that matches nothing is forwarded: the resident hears “已转给社区民警”, officers
are told privately, and `/咨询 回复 N 文本` answers the resident later. Every consultation is
recorded and counted (consultations: answered | forwarded; consultation_topics: entry id), and is a
row of the reception register (接待服务登记簿).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
from handlers.intents import Classification
from handlers.intents.normalize import normalize
from handlers.intents.segment import tokens
from storage.registers import RegisterRow, day_bounds
from storage.understanding import ANSWERED, OPEN, Consultation, recorded_between



class GuideEntry(Strict):
    """One entry of `guide:` in config.yaml."""

    id: str = Field(min_length=1)
    keywords: list[str] = []
    questions: list[str] = []
    answer: str = Field(min_length=1)
    service: str | None = None

    @property
    def topic(self) -> str:
        """What officers call it in reports and registers: its service, else its first keyword."""
        return self.service or (self.keywords[0] if self.keywords else self.questions[0])

    @model_validator(mode="after")
    def _matchable(self) -> GuideEntry:
        if not self.keywords and not self.questions:
            raise PydanticCustomError("unmatchable", "needs keywords or questions to match on", {})
        return self


plugin = Plugin("guide", config=list[GuideEntry], config_default=[], order=100)
plugin.menu_item("直接问我办事的问题，比如“办居住证要带什么？”")

TEXTS = {
    "answer": "{answer}",
    "forwarded": "您的问题我一时答不上来，已转给社区民警，民警看到后会在这里回复您。",
    "officer_notice": "居民咨询 #{id}（{where}，{name}）：{text}\n回复请发：/咨询 回复 {id} 您的答复",
    "list_empty": "目前没有待回复的咨询。",
    "list_head": "待回复的咨询（共{n}条）：",
    "to_resident": "关于您问的“{text}”，社区民警回复：{answer}",
    "done": "已把答复发给{name}（咨询 #{id}）。",
    "not_found": "没有编号为 {id} 的咨询。发送 /咨询 查看待回复的咨询。",
    "already": "咨询 #{id} 已经回复过了。",
    "usage": "回复请发：/咨询 回复 编号 答复内容",
}
REGISTER_TEXTS = {"category": "业务咨询", "guide": "自动解答", "open": "已转民警", "answered": "民警已答复"}
FOLLOWUP = FollowupTexts(TEXTS["list_empty"], TEXTS["list_head"], TEXTS["to_resident"],
                         TEXTS["done"], TEXTS["not_found"], TEXTS["already"], TEXTS["usage"])

GUIDE = "guide"  # answered_by of a consultation the guide answered (no officer)

# In a group, a question that matches no entry is forwarded only when it is clearly meant for the
# police post (or the bot was @-ed): "请问谁家丢了钥匙？" is neighbours talking, not a consultation.
DIRECT_MIN_CONFIDENCE = 0.4
POLICE_BUSINESS = ("派出所", "警务室", "民警", "警官", "户口", "户籍", "证明", "办理", "手续", "材料",
                   "身份证", "居住证", "签注", "护照", "通行证", "落户", "迁户", "报案", "备案")
STOPWORDS = frozenset("请问 问 问一下 想 想问 我 你 您 的 了 吗 呢 啊 呀 吧 么 要 需要 什么 啥 怎么 咋 怎么办 "
                      "哪 哪里 哪儿 几 个 一下 一个 是 有 在 去 可以 能 能不能 和 跟 还 都 也 就 "
                      "时候 多少 谢谢 麻烦".split())
QUESTION_MATCH = 0.5  # share of words in common with an example question (Dice) that counts


def content_words(text: str) -> frozenset[str]:
    return frozenset(t for t in tokens(normalize(text)) if t not in STOPWORDS and any(c.isalnum() for c in t))


@dataclass(frozen=True)
class IndexedEntry:
    entry: GuideEntry
    keywords: tuple[str, ...]
    questions: tuple[frozenset[str], ...]


class GuideIndex:
    """Built once at start: keywords (longer = more specific) plus word overlap with examples."""

    def __init__(self, entries: list[GuideEntry], service_words: list[str]) -> None:
        self.entries = [IndexedEntry(e, tuple(normalize(k) for k in e.keywords if k.strip()),
                                     tuple(content_words(q) for q in e.questions)) for e in entries]
        self.business_words = tuple(POLICE_BUSINESS) + tuple(normalize(w) for w in service_words if len(w) >= 2)

    def match(self, text: str) -> GuideEntry | None:
        norm = normalize(text)
        words = content_words(text) if any(e.questions for e in self.entries) else frozenset()
        best, best_score = None, 0.0
        for item in self.entries:
            keyword = max((len(k) for k in item.keywords if k in norm), default=0)
            similar = max((_dice(words, q) for q in item.questions), default=0.0)
            if not keyword and similar < QUESTION_MATCH:
                continue
            score = keyword + 4 * similar
            if score > best_score:
                best, best_score = item.entry, score
        return best

    def is_police_business(self, text: str) -> bool:
        norm = normalize(text)
        return any(w in norm for w in self.business_words)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


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
    return GuideIndex(app.config.guide, words)


@plugin.intent("consultation")
async def consult(ctx: Context, found: Classification) -> bool:
    index = ctx.app.service(GuideIndex)
    if ctx.group is not None and ctx.role in STAFF:
        return False  # officers and staff answer questions in the groups; they are not consultations
    entry = index.match(ctx.text)
    if entry is not None:
        await _record(ctx, entry.id, ANSWERED, entry.answer)
        await ctx.reply(TEXTS["answer"].format(answer=entry.answer))
        await ctx.count("consultations", "answered")
        await ctx.count("consultation_topics", entry.id)
        return True
    if not _worth_forwarding(ctx, found, index):
        if ctx.is_private:  # "你好", "在吗" said to the bot: show what it can do
            await ctx.reply(menu_text(ctx.app, ctx.role))
            return True
        return False
    row = await _record(ctx, None, OPEN, None)
    await ctx.reply(TEXTS["forwarded"])
    await ctx.notify_roles(OFFICER, TEXTS["officer_notice"].format(
        id=row.id, where=where_asked(ctx, row.room_id), name=ctx.message.sender_name or ctx.sender.name or "居民",
        text=preview(row.text)))
    await ctx.count("consultations", "forwarded")
    return True


def _worth_forwarding(ctx: Context, found: Classification, index: GuideIndex) -> bool:
    if ctx.is_private or ctx.message.mentions_bot:
        # Said to the bot: forward real questions, not "你好"/"在吗" (those get the menu).
        return found.confidence >= DIRECT_MIN_CONFIDENCE
    return found.confidence >= GROUP_MIN_CONFIDENCE and index.is_police_business(ctx.text)


async def _record(ctx: Context, entry_id: str | None, status: str, answer: str | None) -> Consultation:
    row = Consultation(bot=ctx.app.name, at=ctx.now, room_id=ctx.message.room_id, asker_id=ctx.sender.id,
                       text=mask_text(ctx.text), entry_id=entry_id, status=status, answer=answer,
                       answered_at=ctx.now if status == ANSWERED else None,
                       answered_by=GUIDE if status == ANSWERED else None)
    ctx.session.add(row)
    await ctx.session.flush()  # the officer's notice needs the number
    return row


@plugin.command("咨询", roles=STAFF, summary="查看待回复的居民咨询")
async def consultations(ctx: Context) -> None:
    await list_open(ctx, Consultation, FOLLOWUP)


@plugin.subcommand("咨询", "回复", pattern=ANSWER_PATTERN, usage="编号 答复内容",
                   summary="回复一条咨询，答复发回居民提问的地方")
async def answer_consultation(ctx: Context, n: str, text: str) -> None:
    await send_answer(ctx, Consultation, FOLLOWUP, int(n), text)


def topic_of(config, entry_id: str | None) -> str:
    """A guide entry's topic by its id (an entry since removed from config: its id)."""
    entry = next((e for e in config.guide if e.id == entry_id), None) if entry_id else None
    return entry.topic if entry else (entry_id or "")


def handling(status: str, answered_by: str | None) -> str:
    """办理情况 of a consultation: the guide answered it, it waits for the officer, or they answered."""
    if status == OPEN:
        return REGISTER_TEXTS["open"]
    return REGISTER_TEXTS["guide"] if answered_by == GUIDE else REGISTER_TEXTS["answered"]


@plugin.register_rows("reception")
async def reception_rows(session: AsyncSession, config, start: date, end: date) -> list[RegisterRow]:
    rows = []
    for line in await recorded_between(session, Consultation, config.bot.name, *day_bounds(start, end)):
        c = line.record
        rows.append(RegisterRow(c.at, {
            "类别": REGISTER_TEXTS["category"], "事项": topic_of(config, c.entry_id) or preview(mask_text(c.text), ITEM_PREVIEW),
            "来源": source_name(c.room_id, line.room_name), "群众": mask_name(line.resident_name),
            "办理情况": handling(c.status, c.answered_by), "办结时间": c.answered_at or "",
            "经办人": line.officer_name or ""}))
    return rows
